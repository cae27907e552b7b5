use super::*;
use serde_json::json;

#[test]
fn reprs_like_python() {
    assert_eq!(repr(&json!(-5)), "-5");
    assert_eq!(repr(&json!(-5.0)), "-5.0");
    assert_eq!(repr(&json!(0.5)), "0.5");
    assert_eq!(repr(&json!(1e16)), "1e+16");
    assert_eq!(repr(&json!(1e15)), "1000000000000000.0");
    assert_eq!(repr(&json!(0.0001)), "0.0001");
    assert_eq!(repr(&json!(0.00001)), "1e-05");
    assert_eq!(repr(&json!(-1.5e-300)), "-1.5e-300");
    assert_eq!(repr(&json!(123.456)), "123.456");
    assert_eq!(repr(&json!("3600")), "'3600'");
    assert_eq!(repr(&json!("it's")), "\"it's\"");
    assert_eq!(repr(&json!("a'b\"c")), "'a\\'b\"c'");
    assert_eq!(
        repr(&json!("tab\there\n\u{1}é\u{a0}")),
        "'tab\\there\\n\\x01é\\xa0'"
    );
    assert_eq!(repr(&json!(null)), "None");
    assert_eq!(repr(&json!([true, false])), "[True, False]");
    assert_eq!(repr(&json!({"b": 1})), "{'b': 1}");
}
