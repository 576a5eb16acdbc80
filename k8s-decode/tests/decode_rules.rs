//! Decoding rules on hand-built values: omission rules, release-aware fields,
//! unknown fields and kinds, envelopes, resourceVersion, hostile input.

use k8s_decode::{DecodeError, DecodeOptions, Decoder, Encoding, KubeVersion, WarningKind, UNKNOWN_FIELDS_KEY};
use serde_json::{json, Value};

// ---- a tiny protobuf writer -------------------------------------------------

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn tag(num: u32, wt: u8, out: &mut Vec<u8>) {
    varint(u64::from(num) << 3 | u64::from(wt), out);
}

#[derive(Default, Clone)]
struct Msg(Vec<u8>);

impl Msg {
    fn new() -> Self {
        Msg(Vec::new())
    }
    fn bytes(mut self, num: u32, b: &[u8]) -> Self {
        tag(num, 2, &mut self.0);
        varint(b.len() as u64, &mut self.0);
        self.0.extend_from_slice(b);
        self
    }
    fn str(self, num: u32, s: &str) -> Self {
        self.bytes(num, s.as_bytes())
    }
    fn msg(self, num: u32, m: Msg) -> Self {
        self.bytes(num, &m.0)
    }
    fn int(mut self, num: u32, v: u64) -> Self {
        tag(num, 0, &mut self.0);
        varint(v, &mut self.0);
        self
    }
}

fn envelope(api_version: &str, kind: &str, raw: Msg) -> Vec<u8> {
    let mut v = b"k8s\0".to_vec();
    let tm = Msg::new().str(1, api_version).str(2, kind);
    v.extend(Msg::new().msg(1, tm).msg(2, raw).str(3, "").str(4, "").0);
    v
}

fn decode(v: KubeVersion, value: &[u8]) -> k8s_decode::Decoded {
    Decoder::new(v).decode(value, &DecodeOptions::default()).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn pod() -> Vec<u8> {
    // gogo writes ObjectMeta 1-7 always, creationTimestamp as an empty message.
    let meta = Msg::new()
        .str(1, "web")
        .str(2, "")
        .str(3, "default")
        .str(4, "")
        .str(5, "uid-1")
        .str(6, "")
        .int(7, 0)
        .msg(8, Msg::new());
    let port = Msg::new().str(1, "").int(2, 0).int(3, 80).str(4, "TCP").str(5, "");
    let container = Msg::new().str(1, "c").msg(6, port).int(16, 0);
    let spec = Msg::new().msg(2, container);
    envelope("v1", "Pod", Msg::new().msg(1, meta).msg(2, spec).msg(3, Msg::new()))
}

#[test]
fn go_zero_values_and_omitempty() {
    let d = decode(KubeVersion::HEAD, &pod());
    assert_eq!(d.encoding, Encoding::Protobuf);
    assert_eq!((d.api_version.as_str(), d.kind.as_str()), ("v1", "Pod"));
    assert_eq!(d.message, Some("k8s.io.api.core.v1.Pod"));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    let o = &d.object;
    assert_eq!(keys(o), ["kind", "apiVersion", "metadata", "spec", "status"]);
    // generateName "", selfLink "", resourceVersion "", generation 0: omitempty scalars vanish.
    assert_eq!(o["metadata"], json!({"name": "web", "namespace": "default", "uid": "uid-1"}));
    let c = &o["spec"]["containers"][0];
    // hostPort 0, name "", stdin false never shown; containerPort is not omitempty.
    assert_eq!(c["ports"], json!([{"containerPort": 80, "protocol": "TCP"}]));
    assert!(c.get("stdin").is_none());
    // `resources` is a non-pointer struct absent on the wire: Go renders `{}`.
    assert_eq!(c["resources"], json!({}));
    assert_eq!(o["status"], json!({}));
}

#[test]
fn absent_non_omitempty_fields_render_go_zero_values() {
    let v = envelope("v1", "Pod", Msg::new().msg(1, Msg::new().str(1, "x")));
    let d = decode(KubeVersion::HEAD, &v);
    // PodSpec.containers has no omitempty: a nil slice renders null.
    assert_eq!(d.object["spec"]["containers"], Value::Null);
    assert_eq!(d.object["status"], json!({}));
}

#[test]
fn creation_timestamp_rule_depends_on_release() {
    let v133 = decode(KubeVersion::minor_release(33), &pod());
    assert_eq!(v133.object["metadata"]["creationTimestamp"], Value::Null);
    assert!(v133.object["metadata"].get("creationTimestamp").is_some());
    let v134 = decode(KubeVersion::minor_release(34), &pod());
    assert!(v134.object["metadata"].get("creationTimestamp").is_none());
    // A real time renders in both, RFC 3339 seconds.
    let meta = Msg::new().str(1, "x").msg(8, Msg::new().int(1, 1_491_909_641).int(2, 50_188_323));
    let d = decode(KubeVersion::HEAD, &envelope("v1", "Namespace", Msg::new().msg(1, meta)));
    assert_eq!(d.object["metadata"]["creationTimestamp"], "2017-04-11T11:20:41Z");
}

#[test]
fn pointer_zero_stays() {
    let spec = Msg::new().int(1, 0).int(5, 0).int(7, 0);
    let d = decode(KubeVersion::HEAD, &envelope("apps/v1", "Deployment", Msg::new().msg(2, spec)));
    let s = &d.object["spec"];
    assert_eq!(s["replicas"], 0); // *int32
    assert!(s.get("minReadySeconds").is_none()); // int32 omitempty
    assert!(s.get("paused").is_none()); // bool omitempty
    assert!(s.get("revisionHistoryLimit").is_none()); // nil pointer
    assert_eq!(s["selector"], Value::Null); // nil *LabelSelector without omitempty
}

#[test]
fn removed_field_is_decoded_with_nearest_release_row() {
    // ObjectMeta 15 (clusterName) exists in 16-24 only.
    let meta = Msg::new().str(1, "x").str(15, "old-cluster");
    let v = envelope("v1", "ConfigMap", Msg::new().msg(1, meta));
    let d = decode(KubeVersion::HEAD, &v);
    assert_eq!(d.object["metadata"]["clusterName"], "old-cluster");
    assert!(d.warnings.is_empty());
}

#[test]
fn kind_newer_than_the_release_keeps_kind_and_api_version() {
    // networking.k8s.io/v1 Ingress is new in 1.19: read with 1.16's rules (a release told
    // by lagging kubelets, say) it is still rendered whole, `kind` and `apiVersion`
    // included, which `kubectl create -f` needs. Found by the fuzz target's encode check.
    let spec = Msg::new().str(4, "nginx"); // ingressClassName
    let v = envelope("networking.k8s.io/v1", "Ingress", Msg::new().msg(1, Msg::new().str(1, "shop")).msg(2, spec));
    let old = decode(KubeVersion::minor_release(16), &v);
    assert_eq!(old.object["kind"], "Ingress");
    assert_eq!(old.object["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(old.object["spec"]["ingressClassName"], "nginx");
    assert_eq!(keys(&old.object)[..2], ["kind", "apiVersion"]);
    assert!(old.warnings.is_empty(), "{:?}", old.warnings);
}

#[test]
fn unknown_fields_are_kept_and_reported() {
    let meta = Msg::new().str(1, "x").str(99, "mystery").int(98, 7);
    let d = decode(KubeVersion::HEAD, &envelope("v1", "ConfigMap", Msg::new().msg(1, meta)));
    assert_eq!(d.object["metadata"][UNKNOWN_FIELDS_KEY], json!({"98": 7, "99": "mystery"}));
    assert_eq!(d.warnings.len(), 2);
    let w = &d.warnings[0];
    assert_eq!(w.kind, WarningKind::UnknownField);
    assert_eq!(w.message_type.as_deref(), Some("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
    assert_eq!(w.field, Some(99));
    assert_eq!(w.path, "metadata");
}

#[test]
fn wire_type_mismatch_is_kept_not_dropped() {
    // ObjectMeta.name (string) sent as a varint.
    let meta = Msg::new().int(1, 5);
    let d = decode(KubeVersion::HEAD, &envelope("v1", "ConfigMap", Msg::new().msg(1, meta)));
    assert_eq!(d.object["metadata"][UNKNOWN_FIELDS_KEY], json!({"1": 5}));
    assert_eq!(d.warnings[0].kind, WarningKind::WireTypeMismatch);
}

#[test]
fn map_entry_of_the_wrong_wire_type_is_said_and_read_as_absent() {
    // ConfigMap.data (map<string, string>): one entry's value sent as a varint, another's
    // key. Rendered as null before, which no Go map holds and `encode` refused; found by
    // fuzz/decode's encode check.
    let value_as_varint = Msg::new().str(1, "k").int(2, 5);
    let key_as_varint = Msg::new().int(1, 7).str(2, "v");
    let v = envelope("v1", "ConfigMap", Msg::new().msg(2, value_as_varint).msg(2, key_as_varint));
    let d = decode(KubeVersion::HEAD, &v);
    assert_eq!(d.object["data"], json!({"": "v", "k": ""}));
    assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
    assert!(d.warnings.iter().all(|w| w.kind == WarningKind::WireTypeMismatch && w.path == "data"));
}

#[test]
fn unknown_kind_keeps_metadata_and_a_wire_tree() {
    let meta = Msg::new().str(1, "w").str(3, "ns");
    let raw = Msg::new().msg(1, meta).str(2, "spec-text").msg(3, Msg::new().int(1, 3));
    let d = decode(KubeVersion::HEAD, &envelope("example.com/v1", "Widget", raw));
    assert_eq!(d.message, None);
    assert_eq!(d.warnings[0].kind, WarningKind::UnknownKind);
    let o = &d.object;
    assert_eq!(keys(o), ["kind", "apiVersion", "metadata", UNKNOWN_FIELDS_KEY]);
    assert_eq!(o["metadata"]["name"], "w");
    assert_eq!(o[UNKNOWN_FIELDS_KEY]["2"], "spec-text");
    assert_eq!(o[UNKNOWN_FIELDS_KEY]["3"], json!({"1": 3}));
}

#[test]
fn meta_kinds_resolve_in_any_group_and_watch_event_needs_a_type() {
    let d = decode(KubeVersion::HEAD, &envelope("apps/v1", "Status", Msg::new().str(2, "Failure")));
    assert_eq!(d.message, Some("k8s.io.apimachinery.pkg.apis.meta.v1.Status"));
    assert_eq!(d.object["status"], "Failure");
    let ev = envelope("", "", Msg::new().str(1, "ADDED").msg(2, Msg::new().bytes(1, b"{\"a\":1}")));
    let opts = DecodeOptions { message: Some("k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent"), ..Default::default() };
    let d = Decoder::new(KubeVersion::HEAD).decode(&ev, &opts).unwrap();
    assert_eq!(serde_json::to_string(&d.object).unwrap(), r#"{"type":"ADDED","object":{"a":1}}"#);
}

#[test]
fn secret_map_of_bytes() {
    let e1 = Msg::new().str(1, "b").bytes(2, b"\x00\xffhi");
    let e2 = Msg::new().str(1, "a"); // nil value: no field 2
    let raw = Msg::new().msg(1, Msg::new().str(1, "s")).msg(2, e1).msg(2, e2).str(3, "Opaque");
    let d = decode(KubeVersion::HEAD, &envelope("v1", "Secret", raw));
    // Keys sorted, bytes base64, missing value "".
    assert_eq!(serde_json::to_string(&d.object["data"]).unwrap(), r#"{"a":"","b":"AP9oaQ=="}"#);
    assert_eq!(d.object["type"], "Opaque");
}

#[test]
fn resource_version_from_mod_revision() {
    let dec = Decoder::new(KubeVersion::minor_release(30));
    let opts = DecodeOptions { mod_revision: Some(4242), ..Default::default() };
    let d = dec.decode(&pod(), &opts).unwrap();
    assert_eq!(keys(&d.object["metadata"]), ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"]);
    assert_eq!(d.object["metadata"]["resourceVersion"], "4242");
    // Unstructured JSON (sorted keys): stays sorted.
    let j = br#"{"apiVersion":"x.io/v1","kind":"W","metadata":{"name":"a","namespace":"n","uid":"u"}}
"#;
    let d = dec.decode(j, &opts).unwrap();
    assert_eq!(d.encoding, Encoding::Json);
    assert_eq!((d.api_version.as_str(), d.kind.as_str()), ("x.io/v1", "W"));
    assert_eq!(keys(&d.object["metadata"]), ["name", "namespace", "resourceVersion", "uid"]);
}

#[test]
fn json_inside_the_protobuf_envelope() {
    let tm = Msg::new().str(1, "v1").str(2, "ConfigMap");
    let mut v = b"k8s\0".to_vec();
    v.extend(
        Msg::new()
            .msg(1, tm)
            .bytes(2, br#"{"kind":"ConfigMap","apiVersion":"v1","data":{"a":"b"}}"#)
            .str(3, "")
            .str(4, "application/json")
            .0,
    );
    let d = decode(KubeVersion::HEAD, &v);
    assert_eq!(d.encoding, Encoding::Json);
    assert_eq!(d.object["data"]["a"], "b");
}

#[test]
fn json_keeps_stored_key_order() {
    let j = b"  \n{\"kind\":\"APIService\",\"apiVersion\":\"apiregistration.k8s.io/v1\",\"metadata\":{\"name\":\"v1.\"},\"spec\":{}}\n";
    let d = decode(KubeVersion::HEAD, j);
    assert_eq!(keys(&d.object), ["kind", "apiVersion", "metadata", "spec"]);
}

#[test]
fn cbor_value() {
    // 55799({"kind": "W", "apiVersion": "x.io/v1", "metadata": {"name": "a"}})
    let mut v = vec![0xd9, 0xd9, 0xf7, 0xa3];
    for (k, val) in [("kind", "W"), ("apiVersion", "x.io/v1")] {
        v.push(0x60 | k.len() as u8);
        v.extend(k.as_bytes());
        v.push(0x40 | val.len() as u8); // Kubernetes writes strings as byte strings
        v.extend(val.as_bytes());
    }
    v.push(0x68);
    v.extend(b"metadata");
    v.extend([0xa1, 0x64]);
    v.extend(b"name");
    v.extend([0x61, b'a']);
    let d = decode(KubeVersion::HEAD, &v);
    assert_eq!(d.encoding, Encoding::Cbor);
    assert_eq!(d.kind, "W");
    assert_eq!(
        serde_json::to_string(&d.object).unwrap(),
        r#"{"apiVersion":"x.io/v1","kind":"W","metadata":{"name":"a"}}"#
    );
}

#[test]
fn encrypted_and_unrecognised_values() {
    let dec = Decoder::new(KubeVersion::HEAD);
    let e = dec.decode(b"k8s:enc:aescbc:v1:key1:\x01\x02\x03", &DecodeOptions::default()).unwrap_err();
    assert_eq!(e, DecodeError::Encrypted { provider: "aescbc".into(), version: "v1".into(), key_name: "key1".into() });
    assert!(e.to_string().contains("aescbc") && e.to_string().contains("key1"));
    let e = dec.decode(b"\x00\x01garbage\xff", &DecodeOptions::default()).unwrap_err();
    assert_eq!(e, DecodeError::UnrecognizedFormat { prefix: "\\x00\\x01garbage\\xff".into() });
    let long = vec![0x80u8; 1000];
    let DecodeError::UnrecognizedFormat { prefix } = dec.decode(&long, &DecodeOptions::default()).unwrap_err() else {
        panic!()
    };
    assert!(prefix.len() < 200);
    assert_eq!(dec.decode(b"", &DecodeOptions::default()).unwrap_err(), DecodeError::Empty);
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    let dec = Decoder::new(KubeVersion::HEAD);
    // A length prefix far beyond the input.
    let mut v = b"k8s\0".to_vec();
    v.extend([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]);
    assert!(matches!(dec.decode(&v, &DecodeOptions::default()), Err(DecodeError::Wire { .. })));
    // Deeply nested JSONSchemaProps (`not`, field 28).
    let mut m = Msg::new();
    for _ in 0..500 {
        m = Msg::new().msg(28, m);
    }
    let e =
        dec.decode_as("k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps", &m.0).unwrap_err();
    assert!(matches!(e, DecodeError::TooDeep { .. }), "{e}");
    // Deeply nested unknown data.
    let mut m = Msg::new();
    for _ in 0..500 {
        m = Msg::new().msg(1, m.int(2, 1));
    }
    let v = envelope("v1", "ConfigMap", Msg::new().msg(1, Msg::new().msg(77, m)));
    let _ = dec.decode(&v, &DecodeOptions::default());
    // Every truncation and single-byte corruption of a valid value.
    let good = pod();
    for n in 0..good.len() {
        let _ = dec.decode(&good[..n], &DecodeOptions::default());
        let mut bad = good.clone();
        bad[n] ^= 0xff;
        let _ = dec.decode(&bad, &DecodeOptions::default());
    }
}

#[test]
fn release_selection() {
    assert_eq!(Decoder::new(KubeVersion::HEAD).release_label(), "HEAD");
    assert_eq!(Decoder::new("1.30".parse().unwrap()).release_label(), "30");
    assert_eq!(Decoder::new("v1.99.0".parse().unwrap()).release_label(), "HEAD");
    assert_eq!(Decoder::new("1.7".parse().unwrap()).release_label(), "16");
}

/// `object` encoded as release 1.`minor` stores it, then decoded leaving out `leave_out`.
fn stored_and_decoded(minor: u32, object: &Value, leave_out: k8s_decode::LeaveOut) -> Value {
    let version = KubeVersion::minor_release(minor);
    let value = k8s_decode::encode::Encoder::new(version).encode(object).expect("encodes");
    let options = DecodeOptions { leave_out, ..Default::default() };
    Decoder::new(version).decode(&value, &options).expect("decodes").object
}

/// `object` after the default cleaning.
fn cleaned(mut object: Value) -> Value {
    k8s_decode::clean::clean(&mut object, &k8s_decode::clean::CleanOptions::default());
    object
}

/// What the cleaning drops is left out of the decode, managedFields included. A Service with
/// node ports needs them back: the cleaning reads them to keep the node port a user chose
/// (here in them alone, with no last-applied annotation), which would otherwise go as one
/// the API server assigned.
#[test]
fn what_cleaning_drops_and_when_a_service_needs_its_managed_fields_back() {
    use k8s_decode::clean::{reads_managed_fields, CleanOptions};
    use k8s_decode::LeaveOut;

    let chosen = r#"k:{"port":80,"protocol":"TCP"}"#;
    let service = |spec: Value| {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "managedFields": [{
                "manager": "kubectl", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:ports": {chosen: {"f:nodePort": {}}}}}}]},
            "spec": spec,
            "status": {"loadBalancer": {}}
        })
    };
    let decoded = |object: &Value, leave_out: LeaveOut| stored_and_decoded(24, object, leave_out);
    let node_ports = |object: &Value| -> Vec<Option<Value>> {
        object["spec"]["ports"].as_array().expect("ports").iter().map(|p| p.get("nodePort").cloned()).collect()
    };
    let options = CleanOptions::default();

    let dropped = LeaveOut::dropped_by_cleaning();
    assert!(dropped.status && dropped.assigned_metadata && dropped.managed_fields && dropped.last_applied);
    assert!(!dropped.all_but_metadata);

    // With node ports, the managedFields are needed back: without them the chosen port goes.
    let node_port = service(json!({"type": "NodePort", "ports": [
        {"port": 80, "protocol": "TCP", "nodePort": 30080},
        {"port": 81, "protocol": "TCP", "nodePort": 31000}]}));
    let without = decoded(&node_port, dropped);
    assert!(without["metadata"].get("managedFields").is_none());
    assert!(reads_managed_fields(&without, &options));
    assert!(!reads_managed_fields(&without, &CleanOptions { keep_node_ports: true, ..options }));
    assert_eq!(node_ports(&cleaned(without)), [None, None]);
    let again = decoded(&node_port, dropped.keeping_node_port_owners());
    assert_eq!(node_ports(&cleaned(again.clone())), [Some(json!(30080)), None]);
    assert_eq!(cleaned(again), cleaned(decoded(&node_port, LeaveOut::default())), "as if all was decoded first");

    // A health check node port alone needs them too.
    let health_check = service(json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local",
        "healthCheckNodePort": 32000, "ports": [{"port": 80, "protocol": "TCP"}]}));
    assert!(reads_managed_fields(&decoded(&health_check, dropped), &options));

    // Without node ports (most Services), leaving them out changes nothing.
    let cluster_ip = service(json!({"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]}));
    let without = decoded(&cluster_ip, dropped);
    assert!(!reads_managed_fields(&without, &options));
    assert_eq!(cleaned(without), cleaned(decoded(&cluster_ip, LeaveOut::default())));
}

/// The last-applied annotation is left out of the object's own metadata only, before its
/// value is read; the cleaning would remove it, so the cleaned object is the same. A Service
/// whose chosen node port is told by the annotation alone gets it back with the
/// `managedFields`.
#[test]
fn the_last_applied_annotation_is_left_out_until_a_service_needs_it() {
    use k8s_decode::clean::{reads_managed_fields, CleanOptions};
    use k8s_decode::LeaveOut;

    const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
    let decoded = |object: &Value, leave_out: LeaveOut| stored_and_decoded(30, object, leave_out);
    let dropped = LeaveOut::dropped_by_cleaning();

    // A Deployment: the annotation goes from its metadata, not from its template's; an
    // annotation map it was alone in goes too, as the cleaning leaves it.
    let applied = r#"{"apiVersion":"apps/v1","kind":"Deployment"}"#;
    let deployment = |annotations: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "annotations": annotations},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": {LAST_APPLIED: "kept"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    };
    for annotations in [json!({LAST_APPLIED: applied, "team": "a"}), json!({LAST_APPLIED: applied})] {
        let object = deployment(annotations.clone());
        let without = decoded(&object, dropped);
        let mut expected = annotations.as_object().unwrap().clone();
        expected.shift_remove(LAST_APPLIED);
        assert_eq!(without["metadata"].get("annotations"), (!expected.is_empty()).then_some(&Value::Object(expected)));
        assert_eq!(without["spec"]["template"]["metadata"]["annotations"][LAST_APPLIED], "kept");
        assert_eq!(cleaned(without), cleaned(decoded(&object, LeaveOut::default())), "as if all was decoded");
        // Only what the caller leaves out goes.
        let kept = decoded(&object, LeaveOut { last_applied: false, ..dropped });
        assert_eq!(kept["metadata"]["annotations"][LAST_APPLIED], applied);
    }

    // A Service whose node port the annotation alone tells as chosen.
    let service = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "annotations": {LAST_APPLIED:
            r#"{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"nodePort":30080,"port":80}],"type":"NodePort"}}"#}},
        "spec": {"type": "NodePort", "ports": [
            {"port": 80, "protocol": "TCP", "nodePort": 30080},
            {"port": 81, "protocol": "TCP", "nodePort": 31000}]}});
    let without = decoded(&service, dropped);
    assert!(without["metadata"].get("annotations").is_none());
    assert!(reads_managed_fields(&without, &CleanOptions::default()));
    let again = cleaned(decoded(&service, dropped.keeping_node_port_owners()));
    assert_eq!(again["spec"]["ports"][0]["nodePort"], 30080);
    assert!(again["spec"]["ports"][1].get("nodePort").is_none());
    assert_eq!(again, cleaned(decoded(&service, LeaveOut::default())), "as if all was decoded first");
}
