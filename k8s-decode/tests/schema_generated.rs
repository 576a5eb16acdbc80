//! The committed `schema/k8s-api.schema` must be exactly what the generator
//! produces from the shared API field table.

#[test]
fn committed_schema_is_regenerated_output() {
    let Some(dir) = testdata::shared("committed_schema_is_regenerated_output", "data/k8s-api-fields") else { return };
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let generated = k8s_decode::schema::gen::generate(&read("fields.tsv"), &read("types.tsv")).unwrap();
    let committed = k8s_decode::schema::SCHEMA_TEXT;
    if generated != committed {
        let line = generated
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map_or(generated.lines().count().min(committed.lines().count()), |i| i);
        panic!(
            "schema/k8s-api.schema is stale (first difference at line {}); run `cargo run -p k8s-decode --bin gen-schema`",
            line + 1
        );
    }
}

#[test]
fn embedded_schema_parses() {
    let s = k8s_decode::schema::Schema::get();
    assert!(s.message_count() > 1000);
    assert_eq!(s.release_labels().last(), Some(&"HEAD"));
    let pod = s.message_for_gvk("v1", "Pod").unwrap();
    assert_eq!(s.message_name(pod), "k8s.io.api.core.v1.Pod");
    let dep = s.message_for_gvk("apps/v1", "Deployment").unwrap();
    assert_eq!(s.message_name(dep), "k8s.io.api.apps.v1.Deployment");
    let crb = s.message_for_gvk("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").unwrap();
    assert_eq!(s.message_name(crb), "k8s.io.api.rbac.v1.ClusterRoleBinding");
    let aps = s.message_for_gvk("apiregistration.k8s.io/v1", "APIService").unwrap();
    assert_eq!(s.message_name(aps), "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIService");
    let st = s.message_for_gvk("apps/v1", "Status").unwrap();
    assert_eq!(s.message_name(st), "k8s.io.apimachinery.pkg.apis.meta.v1.Status");
}
