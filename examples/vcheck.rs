//! Print the full validator's findings for JSON bundles (development aid).
//! Usage: cargo run --example vcheck -- FILE...
fn main() {
    for f in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            eprintln!("{f}: unreadable");
            continue;
        };
        let v: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("{f}: {e}");
                continue;
            }
        };
        for i in itkbridge::validate::validate_full(&v) {
            println!("{f}: {i}");
        }
    }
}
