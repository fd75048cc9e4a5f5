//! Compiles the protobuf files in `proto/` (Prometheus remote write, Loki push) with
//! prost-build. The descriptors come from protox, a protobuf compiler in Rust, so building
//! slotel needs no system `protoc`.

fn main() {
    let files = ["proto/prometheus/remote.proto", "proto/loki/push.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = match protox::compile(files, ["proto"]) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot compile proto files: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = prost_build::Config::new().compile_fds(descriptors) {
        eprintln!("cannot generate Rust from proto files: {e}");
        std::process::exit(1);
    }
}
