//! `etcdsnap`: read Kubernetes objects out of etcd snapshots, offline.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alloc;
mod compare;
mod crop;
mod decode;
mod diff;
mod encode;
mod extract;
mod get;
mod hashkv;
mod log;
mod ls;
mod output;
mod render;
mod status;
mod target;
mod usage;

/// Offline forensics for etcd snapshots of Kubernetes clusters.
#[derive(Debug, Parser)]
#[command(name = "etcdsnap", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Hash, revision, key count and size, as `etcdutl snapshot status` reports them, and more.
    Status(status::Args),
    /// The hash of the key space at a revision, as `etcdctl endpoint hashkv` reports it: does this backup hold what a member held?
    Hashkv(hashkv::Args),
    /// Space held by each resource or namespace: live objects, deletions, history.
    #[command(alias = "du")]
    Usage(usage::Args),
    /// List keys that exist at the latest (or a given) revision, one per line, sorted.
    Ls(ls::Args),
    /// Every retained change in revision order (create, update, delete), as `etcdctl watch --rev` replays them.
    Log(log::Args),
    /// Print one object (by etcd key or as kubectl names it) decoded as kubectl shows it, its raw value, or its history.
    Get(get::Args),
    /// What changed in one object between two revisions, or two snapshots: a unified diff of its YAML.
    Diff(diff::Args),
    /// Objects created, changed and deleted between two snapshots (e.g. last night's backup and today's).
    Compare(compare::Args),
    /// Write selected objects as clean, re-creatable YAML/JSON (files or one stream).
    Extract(extract::Args),
    /// Write a new snapshot with only some keys (e.g. without Secrets, or one namespace's), that etcd restores as any other.
    Crop(crop::Args),
    /// Decode one stored etcd value from a file or stdin.
    Decode(decode::Args),
    /// Encode one object (YAML or JSON) as the API server stores it in etcd.
    Encode(encode::Args),
}

/// Problems with the input (as opposed to usage errors, which clap reports with exit code 2).
const EXIT_BAD_INPUT: u8 = 1;

fn main() -> ExitCode {
    let cli = Cli::parse();
    alloc::keep_huge_pages_to_advised_blocks();
    let result = match cli.command {
        Command::Status(args) => status::run(args),
        Command::Hashkv(args) => hashkv::run(args),
        Command::Ls(args) => ls::run(args),
        Command::Get(args) => get::run(args),
        Command::Log(args) => log::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Crop(args) => crop::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Extract(args) => extract::run(args),
        Command::Usage(args) => usage::run(args),
    };
    match result {
        Ok(code) => code,
        // `etcdsnap ls … | head` closes the pipe early; that is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "etcdsnap: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe))
}
