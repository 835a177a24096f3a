//! `ringkv`: parse the command line and config file, start the server, wait for a signal.

use std::process::ExitCode;

use ringkv::alloc::CountingAllocator;
use ringkv::cmd::server::{apply_startup_settings, change_dir};
use ringkv::config::{parse_file, Config};
use ringkv::{cli, notice, warning};
use tokio::signal::unix::{signal, Signal, SignalKind};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn main() -> ExitCode {
    let cli = match cli::parse_args(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ringkv: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: cli::Cli) -> Result<(), String> {
    let config = std::sync::Arc::new(Config::new());
    let mut config_file = String::new();
    if let Some(path) = &cli.config_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        let settings = parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        apply_startup_settings(&config, &settings)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        config_file = std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_default();
    }
    apply_startup_settings(&config, &cli.settings())?;
    // Like Redis, live in `dir`: CONFIG GET dir then reports the absolute path.
    let dir =
        change_dir(&config.get("dir")).map_err(|e| format!("dir '{}': {e}", config.get("dir")))?;
    config
        .set_many(&[("dir", &dir)], true)
        .map_err(|e| format!("{e:?}"))?;

    // Before anything listens: a SIGTERM right after the port opens (or during a long RDB
    // load) must shut down cleanly, not kill the process with the default action.
    let mut signals =
        ShutdownSignals::install().map_err(|e| format!("cannot wait for signals: {e}"))?;
    let server = ringkv::server::start(config.clone(), config_file)?;
    notice!(
        "ringkv {} (Redis {} compatible) started: port {}, {} worker thread(s) on {}, pid {}",
        env!("CARGO_PKG_VERSION"),
        ringkv::cmd::introspection::REDIS_VERSION,
        server.startup.port,
        server.startup.threads,
        server.startup.backend,
        std::process::id()
    );
    notice!("Ready to accept connections tcp");
    loop {
        let signal = signals.wait();
        warning!("Received {signal} scheduling shutdown...");
        // Like Redis: save when save points are configured; if that fails, keep running.
        if ringkv::persist::saves_on_shutdown(&config, false, false)
            && ringkv::persist::shutdown_save(&server).is_err()
        {
            warning!("Error trying to save the DB, can't exit.");
            continue;
        }
        break;
    }
    notice!("ringkv is now ready to exit, bye bye...");
    Ok(())
}

/// SIGINT and SIGTERM, caught from the moment [`ShutdownSignals::install`] returns (one
/// that arrives earlier than [`ShutdownSignals::wait`] is kept for it).
struct ShutdownSignals {
    runtime: tokio::runtime::Runtime,
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignals {
    fn install() -> std::io::Result<ShutdownSignals> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate) = {
            let _context = runtime.enter();
            (
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            )
        };
        Ok(ShutdownSignals {
            runtime,
            interrupt,
            terminate,
        })
    }

    /// Blocks until SIGINT or SIGTERM and returns its name.
    fn wait(&mut self) -> &'static str {
        self.runtime.block_on(async {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        })
    }
}
