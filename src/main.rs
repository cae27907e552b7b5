//! The operator binary: wiring only.

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("crd") => match quay_apitoken_operator::crd::crd_yaml() {
            Ok(yaml) => print!("{yaml}"),
            Err(e) => {
                eprintln!("cannot render the CRD: {e}");
                std::process::exit(1);
            }
        },
        _ => {
            eprintln!("usage: quay-apitoken-operator crd");
            std::process::exit(2);
        }
    }
}
