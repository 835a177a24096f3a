//! The two I/O backends behind one small owned-buffer interface.
//!
//! io_uring takes ownership of a buffer for the duration of an operation and hands it
//! back, so the interface is written that way for both backends: `read(buf) -> (result,
//! buf)`. The connection loop ([`super::conn`]) is written once against it and runs
//! unchanged on tokio-uring or on tokio's epoll runtime.
//!
//! Both operations take `&self`, so a connection can keep a read in flight while it
//! writes (a MONITOR connection forwards the feed while waiting for commands).

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;

use std::cell::OnceCell;

use bytes::BytesMut;
use tokio_uring::buf::fixed::FixedBufPool;
use tokio_uring::buf::{BoundedBuf, BoundedBufMut};

/// A connected socket that reads into and writes from owned buffers.
pub(crate) trait Socket {
    /// Appends what arrives to `buf` (into its spare capacity); Ok(0) is end of stream.
    async fn read(&self, buf: BytesMut) -> (io::Result<usize>, BytesMut);
    /// Writes all of `buf`.
    async fn write_all(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>);
    /// Writes bytes of the replication stream (snapshot or commands) to a replica: on
    /// io_uring through the worker's registered buffers, so the kernel does not map the
    /// pages on every write; elsewhere like [`Socket::write_all`].
    async fn write_stream(&self, data: &[u8]) -> io::Result<()>;
    /// Shuts both directions down, so that an abandoned in-flight read completes and the
    /// peer sees the connection end (CLIENT KILL).
    fn shutdown(&self);
    /// The descriptor number, for CLIENT LIST's `fd`.
    fn fd(&self) -> i32;
}

/// A listening socket.
pub(crate) trait Acceptor {
    type Conn: Socket + 'static;
    /// A new connection with its peer and local addresses.
    async fn accept(&self) -> io::Result<(Self::Conn, SocketAddr, SocketAddr)>;
}

pub(crate) struct UringSocket(tokio_uring::net::TcpStream);

impl Socket for UringSocket {
    async fn read(&self, buf: BytesMut) -> (io::Result<usize>, BytesMut) {
        // tokio-uring fills a buffer from its start: hand it only the spare capacity.
        let (start, end) = (buf.len(), buf.capacity());
        let (result, slice) = self.0.read(buf.slice(start..end)).await;
        (result, slice.into_inner())
    }

    async fn write_all(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        self.0.write_all(buf).await
    }

    async fn write_stream(&self, data: &[u8]) -> io::Result<()> {
        let Some(pool) = STREAM_BUFFERS.with(|p| p.get().cloned().flatten()) else {
            return self.write_all(data.to_vec()).await.0;
        };
        for chunk in data.chunks(STREAM_BUFFER_SIZE) {
            let mut buf = pool.next(STREAM_BUFFER_SIZE).await;
            buf.put_slice(chunk);
            // A reused buffer may hold older bytes past this chunk: send only the chunk.
            self.0.write_fixed_all(buf.slice(..chunk.len())).await.0?;
        }
        Ok(())
    }

    fn shutdown(&self) {
        // A read abandoned by a dropped future stays queued in the ring (tokio-uring does
        // not cancel it) and keeps the descriptor open: shutdown(2) completes it.
        let _ = self.0.shutdown(Shutdown::Both);
    }

    fn fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

/// Registered buffers per io_uring worker for replica streams: a few, small, so the
/// locked memory stays within the usual RLIMIT_MEMLOCK.
const STREAM_BUFFERS_PER_WORKER: usize = 4;
const STREAM_BUFFER_SIZE: usize = 16 * 1024;

thread_local! {
    /// This worker's registered stream buffers; None when registration failed (the
    /// stream is then written with plain writes).
    static STREAM_BUFFERS: OnceCell<Option<FixedBufPool<Vec<u8>>>> = const { OnceCell::new() };
}

/// Registers this io_uring worker's stream buffers. Called when the worker starts, before
/// any I/O: registering later may wait for every operation in flight on the ring.
pub(crate) fn register_stream_buffers() {
    let pool = FixedBufPool::new(
        std::iter::repeat_with(|| Vec::with_capacity(STREAM_BUFFER_SIZE))
            .take(STREAM_BUFFERS_PER_WORKER),
    );
    let registered = match pool.register() {
        Ok(()) => Some(pool),
        Err(e) => {
            crate::warning!("Cannot register io_uring buffers for replicas ({e}): plain writes");
            None
        }
    };
    STREAM_BUFFERS.with(|p| {
        let _ = p.set(registered);
    });
}

pub(crate) struct UringListener(pub tokio_uring::net::TcpListener);

impl Acceptor for UringListener {
    type Conn = UringSocket;

    async fn accept(&self) -> io::Result<(UringSocket, SocketAddr, SocketAddr)> {
        let (stream, addr) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        // tokio-uring streams do not expose getsockname: the listener's address is the
        // local one except for a wildcard bind, where the peer's loopback address is.
        let mut local = self.0.local_addr()?;
        if local.ip().is_unspecified() && addr.ip().is_loopback() {
            local.set_ip(addr.ip());
        }
        Ok((UringSocket(stream), addr, local))
    }
}

pub(crate) struct EpollSocket(tokio::net::TcpStream);

impl Socket for EpollSocket {
    async fn read(&self, mut buf: BytesMut) -> (io::Result<usize>, BytesMut) {
        loop {
            if let Err(e) = self.0.readable().await {
                return (Err(e), buf);
            }
            match self.0.try_read_buf(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return (result, buf),
            }
        }
    }

    async fn write_all(&self, buf: Vec<u8>) -> (io::Result<()>, Vec<u8>) {
        let mut written = 0;
        while written < buf.len() {
            if let Err(e) = self.0.writable().await {
                return (Err(e), buf);
            }
            match self.0.try_write(&buf[written..]) {
                Ok(0) => return (Err(io::ErrorKind::WriteZero.into()), buf),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return (Err(e), buf),
            }
        }
        (Ok(()), buf)
    }

    async fn write_stream(&self, data: &[u8]) -> io::Result<()> {
        self.write_all(data.to_vec()).await.0
    }

    fn shutdown(&self) {
        // Nothing stays in flight on epoll: dropping the stream closes it.
    }

    fn fd(&self) -> i32 {
        self.0.as_raw_fd()
    }
}

pub(crate) struct EpollListener(pub tokio::net::TcpListener);

impl Acceptor for EpollListener {
    type Conn = EpollSocket;

    async fn accept(&self) -> io::Result<(EpollSocket, SocketAddr, SocketAddr)> {
        let (stream, addr) = self.0.accept().await?;
        stream.set_nodelay(true)?;
        let local = stream.local_addr()?;
        Ok((EpollSocket(stream), addr, local))
    }
}
