//! `etcdsnap crop`: the snapshot it writes, read back by etcdsnap itself (etcd restoring and
//! serving one is tested in etcd-snapshot's live tests), its file mode, and its refusals.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{etcdsnap, ok, run};

const SNAP: &str = "fixtures/etcd-3.5-k8s/snapshot.db";
const CLUSTER: &str = "fixtures/etcd-3.5-cluster/snapshot.db";

#[test]
fn crop_leaves_out_the_keys_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-secrets.db");
    let out_arg = out.to_str().unwrap();
    let wrote = ok(&["crop", SNAP, "--exclude", "/registry/secrets/", "-o", out_arg]);
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    let summary = wrote.stderr.replace(out_arg, "OUT");
    insta::assert_snapshot!(summary, @"etcdsnap: wrote OUT (94240 bytes): 57 key-bucket entries kept, 3 left out");
    let listed = |args: &[&str]| ok(args).stdout;
    let without_secrets = |listing: String| -> String {
        listing.lines().filter(|k| !k.starts_with("/registry/secrets/")).map(|k| format!("{k}\n")).collect()
    };
    assert_eq!(listed(&["ls", out_arg]), without_secrets(listed(&["ls", SNAP])));
    assert_eq!(listed(&["ls", out_arg, "--deleted"]), without_secrets(listed(&["ls", SNAP, "--deleted"])));
    // Only some prefixes: exactly those keys.
    let some = dir.path().join("some.db");
    ok(&["crop", SNAP, "/registry/configmaps/", "/registry/deployments/", "-o", some.to_str().unwrap()]);
    let expected: String = listed(&["ls", SNAP])
        .lines()
        .filter(|k| k.starts_with("/registry/configmaps/") || k.starts_with("/registry/deployments/"))
        .map(|k| format!("{k}\n"))
        .collect();
    assert_eq!(listed(&["ls", some.to_str().unwrap()]), expected);
    let status = listed(&["status", some.to_str().unwrap(), "-o", "json"]);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!((status["trailer"].as_str(), status["freePages"].as_u64()), (Some("valid"), Some(0)));
}

#[test]
fn crop_refuses_to_overwrite_or_to_write_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.db");
    std::fs::write(&out, b"precious").unwrap();
    let refused = run(&["crop", SNAP, "-o", out.to_str().unwrap()]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("exists (--force replaces it)"), "{}", refused.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    ok(&["crop", SNAP, "-o", out.to_str().unwrap(), "--force"]);
    assert_eq!(ok(&["ls", out.to_str().unwrap()]).stdout, ok(&["ls", SNAP]).stdout);

    let input = dir.path().join("input.db");
    std::fs::copy(testdata::workspace_root().join(SNAP), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let refused = run(&["crop", input.to_str().unwrap(), "-o", input.to_str().unwrap(), "--force"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("is the input snapshot"), "{}", refused.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// A damaged input: the error names the page, and no output file is left behind.
#[test]
fn crop_of_a_damaged_snapshot_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(testdata::workspace_root().join(SNAP)).unwrap();
    let damaged = dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let target = out.join("cropped.db");
    let output = etcdsnap().args(["crop", damaged.to_str().unwrap(), "-o", target.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("cannot crop") && stderr.contains("page"), "{stderr}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0, "nothing left in the output directory");
}

/// `-n`: the namespace's objects (any resource, custom ones too), its Namespace object and
/// the CRDs of its custom resources; extract then finds in the cropped snapshot exactly what
/// it finds in the original.
#[test]
fn crop_keeps_one_namespace() {
    const CRD: &str = "/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com";
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("team-a.db");
    let out_arg = out.to_str().unwrap();
    let wrote = ok(&["crop", CLUSTER, "-n", "team-a", "-o", out_arg]);
    assert!(
        wrote.stderr.contains("keeping the CustomResourceDefinitions of its custom resources: widgets.example.com\n"),
        "{}",
        wrote.stderr
    );
    // Keys as the layout puts them (FORMATS.md §4): /registry/[group/]resource/team-a/name.
    let expected: String = ok(&["ls", CLUSTER])
        .stdout
        .lines()
        .filter(|k| k.rsplit('/').nth(1) == Some("team-a") || *k == "/registry/namespaces/team-a" || *k == CRD)
        .map(|k| format!("{k}\n"))
        .collect();
    assert!(expected.lines().count() > 700 && expected.contains("/registry/example.com/widgets/team-a/"), "{expected}");
    assert_eq!(ok(&["ls", out_arg]).stdout, expected);
    let names = |snapshot: &str| ok(&["extract", snapshot, "-n", "team-a", "-o", "-", "--format", "name"]).stdout;
    assert_eq!(names(out_arg), names(CLUSTER));

    // No custom resource in kube-system: no CRD.
    let system = dir.path().join("kube-system.db");
    let wrote = ok(&["crop", CLUSTER, "-n", "kube-system", "-o", system.to_str().unwrap()]);
    assert!(!wrote.stderr.contains("CustomResourceDefinition"), "{}", wrote.stderr);
    assert!(!ok(&["ls", system.to_str().unwrap()]).stdout.contains("customresourcedefinitions"));

    // A CRD left out by --exclude is not said kept.
    let excluded = dir.path().join("team-a-no-crd.db");
    let args = ["crop", CLUSTER, "-n", "team-a", "--exclude", "/registry/apiextensions.k8s.io/"];
    let wrote = ok(&[&args[..], &["-o", excluded.to_str().unwrap()]].concat());
    assert!(!wrote.stderr.contains("CustomResourceDefinition"), "{}", wrote.stderr);

    // A snapshot without the CRD: the custom resources are kept, and the CRD said missing.
    let no_crds = dir.path().join("no-crds.db");
    ok(&["crop", CLUSTER, "--exclude", "/registry/apiextensions.k8s.io/", "-o", no_crds.to_str().unwrap()]);
    let again = dir.path().join("team-a-again.db");
    let wrote = ok(&["crop", no_crds.to_str().unwrap(), "-n", "team-a", "-o", again.to_str().unwrap()]);
    assert!(
        wrote.stderr.contains("warning: no CustomResourceDefinition in the snapshot for widgets.example.com\n"),
        "{}",
        wrote.stderr
    );
    let without_crd: String = expected.lines().filter(|k| *k != CRD).map(|k| format!("{k}\n")).collect();
    assert_eq!(ok(&["ls", again.to_str().unwrap()]).stdout, without_crd);
}

/// `--compact`: the latest state only, as etcd's compaction at the current revision leaves
/// it (compared with etcd compacting a served copy in etcd-snapshot's live tests).
#[test]
fn crop_compact_keeps_the_latest_state_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compacted.db");
    let out_arg = out.to_str().unwrap();
    ok(&["crop", CLUSTER, "--compact", "-o", out_arg]);
    assert_eq!(ok(&["ls", out_arg]).stdout, ok(&["ls", CLUSTER]).stdout);
    assert_eq!(ok(&["ls", out_arg, "--deleted"]).stdout, "", "deleted keys are compacted away");
    let status = |snapshot: &str| -> serde_json::Value {
        serde_json::from_str(&ok(&["status", snapshot, "-o", "json"]).stdout).unwrap()
    };
    let (before, after) = (status(CLUSTER), status(out_arg));
    assert_eq!(after["currentRevision"], before["currentRevision"]);
    assert_eq!(after["compactRevision"], before["currentRevision"]);
    assert_eq!(after["totalKey"].as_u64().unwrap() - after["liveKeys"].as_u64().unwrap(), {
        // Besides one entry per live key, only the other buckets' entries are left.
        let buckets = after["buckets"].as_array().unwrap();
        buckets.iter().filter(|b| b["name"] != "key").map(|b| b["entries"].as_u64().unwrap()).sum::<u64>()
    });
    let current = before["currentRevision"].as_i64().unwrap();
    let older = run(&["ls", out_arg, "--revision", &(current - 1).to_string()]);
    assert_eq!(older.code, 1);
    assert!(older.stderr.contains("has been compacted"), "{}", older.stderr);
}

/// `--revision R`: the snapshot as it was at R (etcd serving such a copy is compared with
/// etcd serving the original in etcd-snapshot's live tests). team-c, deleted after 3080,
/// is whole again in a copy at 3080.
#[test]
fn crop_at_a_revision_keeps_the_state_of_then() {
    let dir = tempfile::tempdir().unwrap();
    let then = dir.path().join("then.db");
    let then_arg = then.to_str().unwrap();
    ok(&["crop", CLUSTER, "--revision", "3080", "-o", then_arg]);
    for flags in [&[][..], &["--deleted"], &["-l"]] {
        let at = ok(&[&["ls", CLUSTER, "--revision", "3080"][..], flags].concat()).stdout;
        assert_eq!(ok(&[&["ls", then_arg][..], flags].concat()).stdout, at, "{flags:?}");
    }
    assert_eq!(
        ok(&["hashkv", then_arg, "-o", "json"]).stdout,
        ok(&["hashkv", CLUSTER, "--revision", "3080", "-o", "json"]).stdout
    );
    let team_c = |snapshot: &str, revision: &[&str]| {
        ok(&[&["extract", snapshot, "-n", "team-c", "--format", "name"][..], revision].concat()).stdout
    };
    assert!(team_c(CLUSTER, &[]).is_empty());
    assert_eq!(team_c(then_arg, &[]), team_c(CLUSTER, &["--revision", "3080"]));
    assert!(!team_c(then_arg, &[]).is_empty());
    // Compacted at R too: the state of then, without its history.
    let compacted = dir.path().join("compacted.db");
    ok(&["crop", CLUSTER, "--revision", "3080", "--compact", "-o", compacted.to_str().unwrap()]);
    assert_eq!(ok(&["ls", compacted.to_str().unwrap()]).stdout, ok(&["ls", then_arg]).stdout);
    let status: serde_json::Value =
        serde_json::from_str(&ok(&["status", compacted.to_str().unwrap(), "-o", "json"]).stdout).unwrap();
    assert_eq!((status["currentRevision"].as_i64(), status["compactRevision"].as_i64()), (Some(3080), Some(3080)));
    // Revisions compacted away or not yet written are refused, and nothing is written.
    for (revision, reason) in [("10", "has been compacted"), ("99999", "is newer than")] {
        let refused = dir.path().join(format!("{revision}.db"));
        let r = run(&["crop", CLUSTER, "--revision", revision, "-o", refused.to_str().unwrap()]);
        assert!(r.code == 1 && r.stderr.contains(reason), "{}", r.stderr);
        assert!(!refused.exists());
    }
}
