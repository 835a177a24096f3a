//! The two I/O backends behind one small owned-buffer interface.
//!
//! io_uring takes ownership of a buffer for the duration of an operation and hands it
//! back, so the interface is written that way for both backends: `read(buf) -> (result,
//! buf)`. The connection loop ([`super::conn`]) is written once against it and runs
//! unchanged on tokio-uring or on tokio's epoll runtime.

use std::io;
use std::net::SocketAddr;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_uring::buf::BoundedBuf;

/// A connected socket that reads into and writes from owned buffers.
pub(crate) trait Socket {
    /// Appends what arrives to `buf` (into its spare capacity); Ok(0) is end of stream.
    async fn read(&mut self, buf: BytesMut) -> (io::Result<usize>, BytesMut);
    /// Writes all of `buf`.
    async fn write_all(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>);
}

/// A listening socket.
pub(crate) trait Acceptor {
    type Conn: Socket + 'static;
    async fn accept(&self) -> io::Result<(Self::Conn, SocketAddr)>;
}

pub(crate) struct UringSocket(tokio_uring::net::TcpStream);

impl Socket for UringSocket {
    async fn read(&mut self, buf: BytesMut) -> (io::Result<usize>, BytesMut) {
        // tokio-uring fills a buffer from its start: hand it only the spare capacity.
        let (start, end) = (buf.len(), buf.capacity());
        let (result, slice) = self.0.read(buf.slice(start..end)).await;
        (result, slice.into_inner())
    }

    async fn write_all(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        self.0.write_all(buf).await
    }
}

pub(crate) struct UringListener(pub tokio_uring::net::TcpListener);

impl Acceptor for UringListener {
    type Conn = UringSocket;

    async fn accept(&self) -> io::Result<(UringSocket, SocketAddr)> {
        let (stream, addr) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok((UringSocket(stream), addr))
    }
}

pub(crate) struct EpollSocket(tokio::net::TcpStream);

impl Socket for EpollSocket {
    async fn read(&mut self, mut buf: BytesMut) -> (io::Result<usize>, BytesMut) {
        let result = self.0.read_buf(&mut buf).await;
        (result, buf)
    }

    async fn write_all(&mut self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let result = self.0.write_all(&buf).await;
        (result, buf)
    }
}

pub(crate) struct EpollListener(pub tokio::net::TcpListener);

impl Acceptor for EpollListener {
    type Conn = EpollSocket;

    async fn accept(&self) -> io::Result<(EpollSocket, SocketAddr)> {
        let (stream, addr) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        Ok((EpollSocket(stream), addr))
    }
}
