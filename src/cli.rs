//! The command line, like redis-server's: an optional config file, named flags, and any
//! `--<parameter> <value>` of the config table.

use std::path::PathBuf;

use clap::Parser;

use crate::config::Config;

#[derive(Parser, Debug, Default)]
#[command(
    name = "ringkv",
    version,
    about = "A Redis-compatible in-memory server on io_uring",
    // As in redis-server, a flag given twice takes its last value.
    args_override_self = true,
    after_help = "Any other configuration parameter can be given as --<name> <value>, \
                  e.g. --maxclients 1000 or --save \"\"."
)]
pub struct Cli {
    /// A redis.conf-style file (`port 6380`, `dir /data`); flags override it.
    pub config_file: Option<PathBuf>,
    /// TCP port to listen on.
    #[arg(long)]
    pub port: Option<u16>,
    /// Addresses to listen on, space separated ("127.0.0.1 ::1").
    #[arg(long)]
    pub bind: Option<String>,
    /// Working directory, where the dump file lives.
    #[arg(long)]
    pub dir: Option<String>,
    /// Name of the dump file inside --dir.
    #[arg(long)]
    pub dbfilename: Option<String>,
    /// Replicate from "host port".
    #[arg(long)]
    pub replicaof: Option<String>,
    /// Password clients must AUTH with.
    #[arg(long)]
    pub requirepass: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// I/O backend: io_uring, tokio's epoll runtime, or io_uring when it can be set up.
    #[arg(long, value_parser = ["auto", "uring", "epoll"])]
    pub io_backend: Option<String>,
    /// debug, verbose, notice or warning.
    #[arg(long)]
    pub loglevel: Option<String>,
    /// `--<parameter> <value>` pairs for the rest of the config table (filled by
    /// [`parse_args`], not by clap).
    #[arg(skip)]
    pub overrides: Vec<(String, String)>,
}

impl Cli {
    /// The named flags as `(parameter, value)` pairs, in table spelling.
    pub fn settings(&self) -> Vec<(String, String)> {
        let named = [
            ("port", self.port.map(|p| p.to_string())),
            ("bind", self.bind.clone()),
            ("dir", self.dir.clone()),
            ("dbfilename", self.dbfilename.clone()),
            ("replicaof", self.replicaof.clone()),
            ("requirepass", self.requirepass.clone()),
            ("threads", self.threads.map(|t| t.to_string())),
            ("io-backend", self.io_backend.clone()),
            ("loglevel", self.loglevel.clone()),
        ];
        let mut settings: Vec<(String, String)> = named
            .into_iter()
            .filter_map(|(n, v)| v.map(|v| (n.to_string(), v)))
            .collect();
        settings.extend(self.overrides.iter().cloned());
        settings
    }
}

/// Flags clap declares itself; every other `--name` that names a config parameter is
/// taken as a setting, with all words up to the next `--` as its value (as redis-server).
const CLAP_FLAGS: &[&str] = &[
    "port",
    "bind",
    "dir",
    "dbfilename",
    "replicaof",
    "requirepass",
    "threads",
    "io-backend",
    "loglevel",
    "help",
    "version",
];

/// Parses `args` (without the program name).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Cli, clap::Error> {
    let mut for_clap = vec!["ringkv".to_string()];
    let mut overrides = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let name = arg.strip_prefix("--").unwrap_or("");
        if name.is_empty() || CLAP_FLAGS.contains(&name) || Config::find(name).is_none() {
            for_clap.push(arg);
            continue;
        }
        let mut words = Vec::new();
        while let Some(word) = args.next_if(|w| !w.starts_with("--")) {
            words.push(word);
        }
        overrides.push((name.to_string(), words.join(" ")));
    }
    let mut cli = Cli::try_parse_from(for_clap)?;
    cli.overrides = overrides;
    Ok(cli)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        parse_args(args.iter().map(|s| s.to_string())).unwrap()
    }

    #[test]
    fn named_flags_and_config_parameters_mix() {
        let cli = parse(&[
            "redis.conf",
            "--port",
            "7000",
            "--maxclients",
            "5",
            "--save",
            "",
            "--io-backend",
            "epoll",
        ]);
        assert_eq!(cli.config_file, Some(PathBuf::from("redis.conf")));
        let settings = cli.settings();
        assert!(settings.contains(&("port".into(), "7000".into())));
        assert!(settings.contains(&("io-backend".into(), "epoll".into())));
        assert!(settings.contains(&("maxclients".into(), "5".into())));
        assert!(settings.contains(&("save".into(), "".into())));
    }

    #[test]
    fn multi_word_values_are_joined() {
        let cli = parse(&["--save", "900", "1", "300", "10", "--hz", "20"]);
        assert_eq!(
            cli.overrides,
            vec![
                ("save".into(), "900 1 300 10".into()),
                ("hz".into(), "20".into())
            ]
        );
    }

    #[test]
    fn a_repeated_flag_takes_its_last_value() {
        let cli = parse(&["--bind", "127.0.0.1", "--port", "1", "--bind", "0.0.0.0"]);
        assert!(cli.settings().contains(&("bind".into(), "0.0.0.0".into())));
    }

    #[test]
    fn unknown_flags_and_bad_values_are_refused() {
        assert!(parse_args(["--no-such-thing".to_string(), "1".to_string()]).is_err());
        assert!(parse_args(["--port".to_string(), "notaport".to_string()]).is_err());
        assert!(parse_args(["--io-backend".to_string(), "kqueue".to_string()]).is_err());
    }
}
