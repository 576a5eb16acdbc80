//! Decode one stored value file and print the JSON (debugging aid).
//! Usage: `cargo run -p k8s-decode --example decode-file -- <file> [version] [message]`

use k8s_decode::{DecodeOptions, Decoder, KubeVersion};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: decode-file <file> [version] [message]");
        std::process::exit(2)
    };
    let data = std::fs::read(path).expect("readable file");
    let version: KubeVersion = args.get(1).map_or(KubeVersion::HEAD, |v| v.parse().expect("version"));
    let dec = Decoder::new(version);
    let d = match args.get(2) {
        Some(m) if !data.starts_with(b"k8s\0") => dec.decode_as(m, &data),
        m => dec.decode(&data, &DecodeOptions { message: m.map(String::as_str), ..Default::default() }),
    };
    match d {
        Ok(d) => {
            for w in &d.warnings {
                eprintln!("warning: {w}");
            }
            println!("{}", serde_json::to_string(&d.object).expect("serialisable"));
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}
