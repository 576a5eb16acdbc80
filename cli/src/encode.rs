//! `etcdsnap encode`: the inverse of `decode`. One object (YAML or JSON) in, the bytes the
//! API server would store in etcd out: the `k8s\0` protobuf envelope for built-in kinds,
//! JSON for what the API server stores as JSON (custom resources, CustomResourceDefinitions,
//! APIServices; FORMATS.md §4.4).

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use k8s_decode::encode::{EncodeError, Encoder};
use k8s_decode::resources::is_builtin_group;
use serde_json::{Map, Value};

use crate::render::KubeVersionArg;

/// How to store the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// As kube-apiserver does: protobuf for built-in kinds; JSON for custom resources
    /// (keys sorted, as Go writes a map), CustomResourceDefinitions and APIServices.
    Auto,
    /// The `k8s\0` protobuf envelope (the kind must be in the schema).
    Protobuf,
    /// Compact JSON and a newline, keys in the input's order.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// File holding one object, YAML or JSON (as `decode`, `get` or kubectl print it);
    /// `-` for stdin.
    #[arg(default_value = "-")]
    file: PathBuf,
    /// Write the value to FILE (created with mode 0600) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    encoding: Encoding,
    /// Keep metadata.resourceVersion and metadata.selfLink, which the API server clears
    /// before storing (and `decode` shows only with --mod-revision).
    #[arg(long)]
    verbatim: bool,
    #[command(flatten)]
    kube_version: KubeVersionArg,
}

pub fn run(args: Args) -> Result<ExitCode> {
    let (name, input) = if args.file.as_os_str() == "-" {
        let mut input = Vec::new();
        io::stdin().lock().read_to_end(&mut input).context("reading stdin")?;
        ("<stdin>".to_string(), input)
    } else {
        let input = std::fs::read(&args.file).with_context(|| format!("{}", args.file.display()))?;
        (args.file.display().to_string(), input)
    };
    let mut object = parse(&input).with_context(|| name.clone())?;
    if !args.verbatim {
        for field in clear_storage_fields(&mut object) {
            eprintln!(
                "etcdsnap: {name}: metadata.{field} removed: the API server does not store it (--verbatim keeps it)"
            );
        }
    }
    let encoder = Encoder::new(args.kube_version.kube_version.unwrap_or(k8s_decode::KubeVersion::HEAD));
    let value = encode(&encoder, &object, args.encoding).with_context(|| format!("{name}: cannot encode"))?;
    match &args.output {
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&value)?;
            out.flush()?;
        }
        Some(path) => {
            // The value may be a Secret: nobody else may read it.
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("{}", path.display()))?;
            file.write_all(&value).with_context(|| format!("{}", path.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// JSON if the text starts with `{`, YAML otherwise (JSON is YAML too, but JSON's own
/// parser gives better errors and exact numbers).
fn parse(input: &[u8]) -> Result<Value> {
    let text = std::str::from_utf8(input).context("not UTF-8 text")?;
    let object: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("invalid JSON at line {}, column {}: {e}", e.line(), e.column()))?
    } else {
        // Untyped, so no field type can settle what a plain scalar is: only `true`/`false`
        // are booleans (an unquoted `n` or `no` stays a string; the encoder rejects a string
        // where a boolean belongs, naming the field), and `0644` is octal as kubectl reads it.
        let options = serde_saphyr::options! { strict_booleans: true, legacy_octal_numbers: true };
        serde_saphyr::from_str_with_options(text, options).map_err(|e| anyhow::anyhow!("invalid YAML: {e}"))?
    };
    if !object.is_object() {
        bail!("expected one object (a mapping with apiVersion and kind)");
    }
    Ok(object)
}

/// What `PrepareObjectForStorage` clears (FORMATS.md §4.5); the names of those present.
fn clear_storage_fields(object: &mut Value) -> Vec<&'static str> {
    let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) else { return Vec::new() };
    ["resourceVersion", "selfLink"].into_iter().filter(|k| meta.shift_remove(*k).is_some()).collect()
}

fn encode(encoder: &Encoder, object: &Value, encoding: Encoding) -> Result<Vec<u8>> {
    let s = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("");
    let (api_version, kind) = (s("apiVersion"), s("kind"));
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match encoding {
        Encoding::Protobuf => Ok(encoder.encode(object)?),
        Encoding::Json => Ok(json_value(object)),
        Encoding::Auto => {
            if api_version.is_empty() || kind.is_empty() {
                bail!("the object has no apiVersion and kind");
            }
            // Typed, but stored with the JSON codec whatever --storage-media-type says.
            if matches!(
                (group, kind),
                ("apiextensions.k8s.io", "CustomResourceDefinition") | ("apiregistration.k8s.io", "APIService")
            ) {
                return Ok(json_value(object));
            }
            match encoder.encode(object) {
                Ok(value) => Ok(value),
                // A built-in group with a kind the schema lacks is a typo or a release
                // mismatch, not a custom resource.
                Err(EncodeError::UnknownKind { .. }) if !is_builtin_group(group) => Ok(json_value(&sorted(object))),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// As `json.Encoder.Encode` writes it: compact, Go's HTML-safe escaping, a newline.
fn json_value(object: &Value) -> Vec<u8> {
    let mut out = k8s_decode::to_go_json(object).into_bytes();
    out.push(b'\n');
    out
}

/// Every map's keys in byte order, as Go's encoding/json writes an unstructured object.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k.as_str()]))).collect::<Map<_, _>>())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
