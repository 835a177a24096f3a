//! The network side: worker threads, their runtimes, listeners and connections.
//!
//! Each worker thread runs its own single-threaded runtime — tokio-uring when io_uring can
//! be set up, tokio's epoll runtime otherwise — with its own SO_REUSEPORT listeners. A
//! connection lives on the thread that accepted it; threads share only the keyspace.

pub mod access;
pub mod client;
pub(crate) mod conn;
pub mod fdlimit;
pub mod idle;
pub(crate) mod io;
pub mod listener;
pub mod output_limit;
pub mod state;

use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use self::io::{Acceptor, EpollListener, UringListener};
use self::state::{Server, StartupInfo, Stats};
use crate::config::Config;
use crate::db::expire::spawn_active_expiry;

/// Which I/O backend the workers run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Uring,
    Epoll,
}

impl Backend {
    /// The name INFO reports as `multiplexing_api`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Uring => "io_uring",
            Backend::Epoll => "epoll",
        }
    }
}

/// Submission queue size per worker ring.
const RING_ENTRIES: u32 = 1024;

/// A tokio-uring builder; `tuned` adds COOP_TASKRUN and SINGLE_ISSUER, which cut CPU per
/// request but need Linux 6.0 (DEFER_TASKRUN is left out: tokio-uring never reaps
/// deferred completions, so the server would hang).
fn uring_builder(tuned: bool) -> tokio_uring::Builder {
    let mut ring = io_uring::IoUring::builder();
    if tuned {
        ring.setup_coop_taskrun().setup_single_issuer();
    }
    let mut builder = tokio_uring::builder();
    builder.entries(RING_ENTRIES).uring_builder(&ring);
    builder
}

/// Creates an io_uring runtime on this thread: tuned if the kernel allows, else plain.
/// The flag says which: tuned means COOP_TASKRUN and SINGLE_ISSUER are on.
fn uring_runtime() -> std::io::Result<(tokio_uring::Runtime, bool)> {
    match tokio_uring::Runtime::new(&uring_builder(true)) {
        Ok(runtime) => Ok((runtime, true)),
        Err(_) => tokio_uring::Runtime::new(&uring_builder(false)).map(|r| (r, false)),
    }
}

/// Decides the backend for `--io-backend` (`auto`, `uring`, `epoll`), logging why.
pub fn choose_backend(requested: &str) -> Result<Backend, String> {
    match requested {
        "epoll" => Ok(Backend::Epoll),
        "uring" => uring_runtime()
            .map(|_| Backend::Uring)
            .map_err(|e| format!("io_uring was requested but cannot be set up: {e}")),
        _ => match uring_runtime() {
            Ok(_) => Ok(Backend::Uring),
            Err(e) => {
                crate::warning!(
                    "io_uring is not available ({e}); falling back to epoll. \
                     (Seccomp profiles such as Docker's default, kernel.io_uring_disabled \
                     and memlock limits are the usual causes.)"
                );
                Ok(Backend::Epoll)
            }
        },
    }
}

/// Binds, starts the workers and the expiry cycle, and returns the shared server state.
/// The workers run on their own threads for the life of the process.
pub fn start(config: Arc<Config>, config_file: String) -> Result<Arc<Server>, String> {
    let backend = choose_backend(&config.get("io-backend"))?;
    let threads = match config.get_int("threads") {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n as usize,
    };
    fdlimit::adjust(&config)?;
    let port = config.get_int("port") as u16;
    let addrs = listener::parse_bind(&config.get("bind"), port)?;
    let backlog = config.get_int("tcp-backlog") as i32;

    // Bind every listener before any thread starts, so a busy port fails start-up.
    let mut per_worker: Vec<Vec<TcpListener>> = (0..threads).map(|_| Vec::new()).collect();
    for (addr, optional) in addrs {
        let bound = listener::ensure_port_free(addr).and_then(|()| {
            per_worker.iter_mut().try_for_each(|listeners| {
                listeners.push(listener::bind_reuseport(addr, backlog)?);
                Ok(())
            })
        });
        match bound {
            Ok(()) => {}
            Err(e) if optional => crate::warning!("Could not bind {addr} (optional): {e}"),
            Err(e) => {
                return Err(format!(
                    "Could not create server TCP listening socket {addr}: {e}"
                ))
            }
        }
    }
    if per_worker[0].is_empty() {
        return Err("no address to listen on".into());
    }

    let startup = StartupInfo {
        port,
        threads,
        backend: backend.name(),
        config_file,
        executable: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    };
    let server = Arc::new(Server::new(config.clone(), startup));
    // The dump is loaded before any worker accepts: no client sees half of it.
    crate::rdb::into_keyspace::load_at_startup(&server.keyspace, &config)?;
    spawn_active_expiry(server.keyspace.clone(), config, server.expiry.clone());
    crate::persist::policy::spawn(server.clone());
    idle::spawn_idle_timeout(server.clone());
    crate::repl::replica::start(server.clone())?;
    // A replica from its first client on: no client sees it as a master meanwhile.
    let master = crate::repl::replica::parse_replicaof(&server.config.get("replicaof"))?;
    if master.is_some() {
        crate::repl::replica::set_master(&server, master, true);
    }
    for (index, listeners) in per_worker.into_iter().enumerate() {
        let server = server.clone();
        std::thread::Builder::new()
            .name(format!("worker-{index}"))
            .spawn(move || run_worker(index, backend, listeners, server))
            .map_err(|e| format!("cannot start worker thread: {e}"))?;
    }
    Ok(server)
}

/// Runs one worker's runtime forever. A worker whose ring cannot be created (memlock
/// limits can bite after the first few rings) falls back to epoll on its own.
fn run_worker(index: usize, backend: Backend, listeners: Vec<TcpListener>, server: Arc<Server>) {
    if backend == Backend::Uring {
        match uring_runtime() {
            Ok((runtime, tuned)) => {
                if tuned {
                    crate::verbose!(
                        "worker {index}: io_uring ring set up with COOP_TASKRUN and SINGLE_ISSUER"
                    );
                } else {
                    crate::warning!(
                        "worker {index}: io_uring without COOP_TASKRUN and SINGLE_ISSUER \
                         (they need Linux 6.0); CPU per request is higher"
                    );
                }
                runtime.block_on(async move {
                    io::register_stream_buffers();
                    let listeners = listeners
                        .into_iter()
                        .map(|l| UringListener(tokio_uring::net::TcpListener::from_std(l)));
                    accept_all(listeners.collect(), server).await
                });
                return;
            }
            Err(e) => crate::warning!(
                "worker {index}: io_uring setup failed ({e}); this worker uses epoll"
            ),
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            crate::warning!("worker {index}: cannot start a runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let mut wrapped = Vec::new();
        for l in listeners {
            match tokio::net::TcpListener::from_std(l) {
                Ok(l) => wrapped.push(EpollListener(l)),
                Err(e) => crate::warning!("worker {index}: cannot register listener: {e}"),
            }
        }
        accept_all(wrapped, server).await
    });
}

/// Accepts on every listener of this worker, forever.
async fn accept_all<A: Acceptor + 'static>(listeners: Vec<A>, server: Arc<Server>) {
    let loops: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::task::spawn_local(accept_loop(l, server.clone())))
        .collect();
    for handle in loops {
        let _ = handle.await;
    }
}

const MAX_CLIENTS_REACHED: &[u8] = b"-ERR max number of clients reached\r\n";

async fn accept_loop<A: Acceptor + 'static>(listener: A, server: Arc<Server>) {
    loop {
        let (socket, addr, local) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                crate::warning!("Accepting client connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let stats = &server.stats;
        let max_clients = server.config.get_int("maxclients") as u64;
        if stats.connected_clients.load(Ordering::Relaxed) >= max_clients {
            Stats::add(&stats.rejected_connections, 1);
            tokio::task::spawn_local(conn::refuse(socket, MAX_CLIENTS_REACHED));
            continue;
        }
        if access::denied(&server.config, addr.ip()) {
            Stats::add(&stats.rejected_connections, 1);
            tokio::task::spawn_local(conn::refuse(socket, access::PROTECTED_MODE_DENIED));
            continue;
        }
        Stats::add(&stats.connections_received, 1);
        stats.connected_clients.fetch_add(1, Ordering::Relaxed);
        let server = server.clone();
        // conn::serve gives the count back when the connection ends.
        tokio::task::spawn_local(conn::serve(socket, addr, local, server));
    }
}
