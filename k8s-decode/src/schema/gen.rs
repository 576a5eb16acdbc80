//! Generator: turns the shared API field table (`fields.tsv`, `types.tsv`, see
//! `shared/data/k8s-api-fields/README.md`) into the compact schema committed at
//! `k8s-decode/schema/k8s-api.schema` and embedded by [`crate::schema`].
//!
//! Run `cargo run -p k8s-decode --bin gen-schema` to regenerate; the test
//! `tests/schema_generated.rs` checks that the committed file is up to date.
//!
//! Output format (tab separated, one record per line, deterministic):
//!
//! ```text
//! # comment lines
//! R  <release labels, comma separated>            bit i of a mask = i-th release
//! M  <proto message name>  <flags>                message id = ordinal of M lines
//! F  <num> <json> <omit> <inline> <order> <mask> <type> <zero>   field of the last M
//! G  <apiVersion> <kind> <message id>             GVK index
//! ```
//!
//! * `flags`: `-`, or `nullable` (a `+protobuf.nullable=true` slice wrapper
//!   `{repeated items = 1}` that renders as a plain array).
//! * `omit`: the table's `json_omit` (`never nil empty zero iszero inline skip`).
//! * `type`: `s` string, `i` int32, `l` int64, `b` bool, `y` bytes, `d` double,
//!   `m<id>` message; prefixed with `r` for repeated and `k` for a
//!   `map<string, V>` (V encoded the same way).
//! * `zero`: what Go renders for the field when it is absent on the wire and
//!   not omitted: `n` null (pointer, slice, map), `s` `""`, `0` number,
//!   `f` false, `m` the zero struct (the message rendered from no bytes).
//! * `mask`: hex bitmask of the releases in which this row is valid.
//!
//! Rows with the same emitted values are merged (masks OR-ed), so the file only
//! carries what the decoder needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Columns of fields.tsv (0-based), by name, checked against the header.
const F_COLS: [&str; 22] = [
    "go_pkg",
    "proto_message",
    "go_field",
    "json_name",
    "omitempty",
    "inline",
    "go_type",
    "pointer",
    "proto_number",
    "proto_wire",
    "proto_label",
    "proto_name",
    "proto_extra",
    "releases",
    "go_order",
    "omitzero",
    "embedded",
    "json_tagged",
    "go_type_resolved",
    "proto_type",
    "tag_note",
    "json_omit",
];

const T_COLS: [&str; 12] = [
    "go_pkg",
    "go_type",
    "decl",
    "underlying",
    "underlying_resolved",
    "markers",
    "runtime_object",
    "json_methods",
    "proto_message",
    "api_group",
    "releases",
    "has_protobuf_tags",
];

fn rows<'a>(text: &'a str, cols: &[&str], what: &str) -> Result<Vec<Vec<&'a str>>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or_else(|| format!("{what}: empty"))?.split('\t').collect();
    if header != cols {
        return Err(format!("{what}: unexpected header {header:?}"));
    }
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.is_empty() {
            continue;
        }
        let r: Vec<&str> = line.split('\t').collect();
        if r.len() != cols.len() {
            return Err(format!("{what}: line {} has {} columns", i + 2, r.len()));
        }
        out.push(r);
    }
    Ok(out)
}

/// Release labels in order: numeric minors ascending, then `HEAD`.
fn release_labels(all: &[&str]) -> Result<Vec<String>, String> {
    let mut nums = BTreeSet::new();
    let mut head = false;
    for r in all {
        for part in r.split(',') {
            if part == "HEAD" {
                head = true;
            } else if let Some((a, b)) = part.split_once('-') {
                let a: u32 = a.parse().map_err(|_| format!("bad release {part}"))?;
                let b: u32 = b.parse().map_err(|_| format!("bad release {part}"))?;
                nums.extend(a..=b);
            } else {
                nums.insert(part.parse::<u32>().map_err(|_| format!("bad release {part}"))?);
            }
        }
    }
    let mut v: Vec<String> = nums.iter().map(|n| n.to_string()).collect();
    if head {
        v.push("HEAD".into());
    }
    Ok(v)
}

fn release_mask(r: &str, labels: &[String]) -> Result<u64, String> {
    let idx = |l: &str| labels.iter().position(|x| x == l).ok_or_else(|| format!("unknown release {l}"));
    let mut m = 0u64;
    for part in r.split(',') {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (idx(a)?, idx(b)?);
            for i in a..=b {
                m |= 1 << i;
            }
        } else {
            m |= 1 << idx(part)?;
        }
    }
    Ok(m)
}

/// Proto message name of a Go named type given as `import/path.Type`.
fn go_to_proto_name(resolved: &str) -> String {
    resolved.replace(['/', '-'], ".").replace("..", ".")
}

struct Types<'a> {
    /// `pkg.Type` → (decl, underlying_resolved)
    by_name: HashMap<String, (&'a str, &'a str)>,
}

impl Types<'_> {
    /// Go zero-value rendering class of a resolved Go type expression.
    fn zero(&self, ty: &str, depth: u32) -> Result<char, String> {
        if depth > 16 {
            return Err(format!("type resolution loop at {ty}"));
        }
        if ty.starts_with('*') || ty.starts_with("[]") || ty.starts_with("map[") {
            return Ok('n');
        }
        match ty {
            "string" => return Ok('s'),
            "bool" => return Ok('f'),
            "int" | "int8" | "int16" | "int32" | "int64" | "uint" | "uint8" | "uint16" | "uint32" | "uint64"
            | "float32" | "float64" | "byte" | "time.Duration" => return Ok('0'),
            "time.Time" => return Ok('m'),
            _ => {}
        }
        match self.by_name.get(ty) {
            Some(("struct", _)) => Ok('m'),
            Some((_, under)) => self.zero(under, depth + 1),
            None => Err(format!("unresolvable Go type {ty}")),
        }
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone)]
struct OutField {
    order: u32,
    num: u32,
    json: String,
    omit: String,
    inline: bool,
    ty: String,
    zero: char,
}

/// Generate the compact schema text from the contents of `fields.tsv` and `types.tsv`.
pub fn generate(fields_tsv: &str, types_tsv: &str) -> Result<String, String> {
    let frows = rows(fields_tsv, &F_COLS, "fields.tsv")?;
    let trows = rows(types_tsv, &T_COLS, "types.tsv")?;
    let col = |name: &str| F_COLS.iter().position(|c| *c == name).unwrap();
    let tcol = |name: &str| T_COLS.iter().position(|c| *c == name).unwrap();
    let (f_msg, f_json, f_inline, f_num, f_label, f_rel, f_order, f_res, f_ptype, f_omit) = (
        col("proto_message"),
        col("json_name"),
        col("inline"),
        col("proto_number"),
        col("proto_label"),
        col("releases"),
        col("go_order"),
        col("go_type_resolved"),
        col("proto_type"),
        col("json_omit"),
    );
    let (t_pkg, t_type, t_decl, t_under, t_markers, t_robj, t_pmsg, t_group, t_rel) = (
        tcol("go_pkg"),
        tcol("go_type"),
        tcol("decl"),
        tcol("underlying_resolved"),
        tcol("markers"),
        tcol("runtime_object"),
        tcol("proto_message"),
        tcol("api_group"),
        tcol("releases"),
    );

    let mut all_rel: Vec<&str> = frows.iter().map(|r| r[f_rel]).collect();
    all_rel.extend(trows.iter().map(|r| r[t_rel]));
    let labels = release_labels(&all_rel)?;
    if labels.len() > 64 {
        return Err("more than 64 releases".into());
    }

    let types = Types {
        by_name: trows.iter().map(|r| (format!("{}.{}", r[t_pkg], r[t_type]), (r[t_decl], r[t_under]))).collect(),
    };

    // All message names.
    let mut names: BTreeSet<String> = BTreeSet::new();
    let elem_msg = |t: &str| -> Option<String> {
        let t = t.strip_prefix("map<string,").and_then(|x| x.strip_suffix('>')).unwrap_or(t);
        t.contains('.').then(|| t.to_string())
    };
    for r in &frows {
        names.insert(r[f_msg].to_string());
        if let Some(m) = elem_msg(r[f_ptype]) {
            names.insert(m);
        }
    }
    for r in &trows {
        if !r[t_pmsg].is_empty() {
            names.insert(r[t_pmsg].to_string());
        }
    }
    let ids: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();

    let enc_elem = |t: &str| -> Result<String, String> {
        Ok(match t {
            "string" => "s".into(),
            "int32" => "i".into(),
            "int64" => "l".into(),
            "bool" => "b".into(),
            "bytes" => "y".into(),
            "double" => "d".into(),
            m => format!("m{}", ids.get(m).ok_or_else(|| format!("unknown proto type {m}"))?),
        })
    };

    // message → merged rows: key = everything but mask.
    let mut per_msg: BTreeMap<&str, BTreeMap<OutField, u64>> = BTreeMap::new();
    for r in &frows {
        let num: u32 = r[f_num].parse().map_err(|_| format!("bad number {}", r[f_num]))?;
        let inline = r[f_inline] == "1";
        let ty = if num == 0 {
            // Only numberless inline struct rows (embedded TypeMeta) matter:
            // they are filled from the envelope at the top level.
            let target = go_to_proto_name(r[f_res]);
            if !inline || !ids.contains_key(target.as_str()) {
                continue;
            }
            enc_elem(&target)?
        } else {
            let pt = r[f_ptype];
            if let Some(v) = pt.strip_prefix("map<string,").and_then(|x| x.strip_suffix('>')) {
                format!("k{}", enc_elem(v)?)
            } else if pt.starts_with("map<") {
                return Err(format!("unsupported map type {pt}"));
            } else if r[f_label] == "rep" {
                format!("r{}", enc_elem(pt)?)
            } else {
                enc_elem(pt)?
            }
        };
        let zero = types.zero(r[f_res], 0)?;
        let f = OutField {
            order: r[f_order].parse().map_err(|_| "bad go_order".to_string())?,
            num,
            json: r[f_json].to_string(),
            omit: r[f_omit].to_string(),
            inline,
            ty,
            zero,
        };
        *per_msg.entry(r[f_msg]).or_default().entry(f).or_default() |= release_mask(r[f_rel], &labels)?;
    }

    // Defined types over a foreign struct (`type MatchCondition v1.MatchCondition`):
    // generated.proto has an own message with the underlying struct's fields.
    let mut nullable: BTreeSet<&str> = BTreeSet::new();
    let mut copies: Vec<(&str, String)> = Vec::new();
    for r in &trows {
        if r[t_pmsg].is_empty() {
            continue;
        }
        if r[t_markers].split(';').any(|m| m == "+protobuf.nullable=true") {
            if r[t_under] != "[]string" {
                return Err(format!("nullable wrapper over {} unsupported", r[t_under]));
            }
            nullable.insert(r[t_pmsg]);
        } else if r[t_decl] == "named" && !per_msg.contains_key(r[t_pmsg]) {
            let target = go_to_proto_name(r[t_under]);
            if per_msg.contains_key(target.as_str()) {
                copies.push((r[t_pmsg], target));
            }
        }
    }
    for (name, target) in copies {
        let rows = per_msg[target.as_str()].clone();
        per_msg.insert(name, rows);
    }

    let mut out = String::new();
    out.push_str("# etcdsnap k8s-decode schema v1. GENERATED by `cargo run -p k8s-decode --bin gen-schema`\n");
    out.push_str("# from shared/data/k8s-api-fields/{fields,types}.tsv. Do not edit; format: src/schema/gen.rs\n");
    out.push_str(&format!("R\t{}\n", labels.join(",")));
    for name in &names {
        let flags = if nullable.contains(name.as_str()) { "nullable" } else { "-" };
        out.push_str(&format!("M\t{name}\t{flags}\n"));
        if let Some(rows) = per_msg.get(name.as_str()) {
            for (f, mask) in rows {
                out.push_str(&format!(
                    "F\t{}\t{}\t{}\t{}\t{}\t{:x}\t{}\t{}\n",
                    f.num,
                    f.json,
                    f.omit,
                    u8::from(f.inline),
                    f.order,
                    mask,
                    f.ty,
                    f.zero
                ));
            }
        }
    }

    // GVK index: runtime objects of API group packages.
    let mut gvk: BTreeMap<(String, String), BTreeSet<usize>> = BTreeMap::new();
    for r in &trows {
        if r[t_robj] != "1" || r[t_pmsg].is_empty() || r[t_group] == "-" {
            continue;
        }
        let version = r[t_pkg].rsplit('/').next().unwrap_or_default();
        let api_version =
            if r[t_group] == "core" { version.to_string() } else { format!("{}/{}", r[t_group], version) };
        gvk.entry((api_version, r[t_type].to_string())).or_default().insert(ids[r[t_pmsg]]);
    }
    for ((av, kind), msgs) in &gvk {
        if msgs.len() != 1 {
            return Err(format!("ambiguous GVK {av} {kind}"));
        }
        out.push_str(&format!("G\t{av}\t{kind}\t{}\n", msgs.iter().next().unwrap()));
    }
    Ok(out)
}
