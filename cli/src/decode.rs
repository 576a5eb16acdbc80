//! `etcdsnap decode`: decode one stored value (as `auger decode` does), from a file or stdin.

use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use k8s_decode::encryption::EncryptedWith;

use crate::render::{decode_value, write_object, EncryptionArg, KubeVersionArg, ObjectFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// File holding one stored etcd value (`k8s\0` protobuf, JSON or CBOR); `-` for stdin.
    #[arg(default_value = "-")]
    file: PathBuf,
    /// `yaml` as kubectl prints it; `json` in the API server's key order, as it would
    /// write the object (what `encode` reads back).
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    format: ObjectFormat,
    /// Set metadata.resourceVersion to this etcd mod_revision, as the API server does on read.
    #[arg(long, value_name = "REV")]
    mod_revision: Option<i64>,
    /// The value's etcd key: AES-GCM (`aesgcm`) binds an encrypted value to it.
    #[arg(long, value_name = "KEY")]
    etcd_key: Option<String>,
    #[command(flatten)]
    kube_version: KubeVersionArg,
    #[command(flatten)]
    encryption: EncryptionArg,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (name, value) = if args.file.as_os_str() == "-" {
        let mut value = Vec::new();
        io::stdin().lock().read_to_end(&mut value).context("reading stdin")?;
        ("<stdin>".to_string(), value)
    } else {
        let value = std::fs::read(&args.file).with_context(|| format!("{}", args.file.display()))?;
        (args.file.display().to_string(), value)
    };
    let keys = args.encryption.load()?;
    let aesgcm = EncryptedWith::read(&value).is_some_and(|with| with.provider == "aesgcm");
    if keys.is_some() && args.etcd_key.is_none() && aesgcm {
        bail!("{name}: aesgcm authenticates the value's etcd key: give it with --etcd-key");
    }
    let etcd_key = args.etcd_key.as_deref().unwrap_or_default().as_bytes();
    let decoded =
        decode_value(&args.kube_version.decoder(), &name, &value, args.mod_revision, keys.as_ref(), etcd_key)?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        // The API server's key order: the JSON it would write for this object, which
        // `encode` reads back. YAML has one order, kubectl's.
        ObjectFormat::Json => out.write_all(k8s_decode::to_go_json_pretty(&decoded.object).as_bytes())?,
        ObjectFormat::Yaml => write_object(&mut out, &decoded.object, args.format)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
