//! The dependency rules of `docs/architecture.md` ("Dependencies", "Never"), checked against
//! Cargo's own view of the workspace, so a forbidden arrow fails the suite instead of waiting
//! for a reviewer to notice it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use serde_json::Value;

/// A workspace member and its declared dependencies: (name, kind, features), kind `None` for
/// normal.
struct Member {
    name: String,
    manifest: String,
    deps: Vec<(String, Option<String>, Vec<String>)>,
}

fn members() -> Vec<Member> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Member {
            name: p["name"].as_str().unwrap().to_owned(),
            manifest: p["manifest_path"].as_str().unwrap().to_owned(),
            deps: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    let kind = d["kind"].as_str().map(str::to_owned);
                    let features = d["features"]
                        .as_array()
                        .map(|f| {
                            f.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    (d["name"].as_str().unwrap().to_owned(), kind, features)
                })
                .collect(),
        })
        .collect()
}

impl Member {
    /// What it needs to build and run (not its tests).
    fn normal_deps(&self) -> impl Iterator<Item = &str> {
        self.deps
            .iter()
            .filter(|(_, kind, _)| kind.is_none())
            .map(|(name, _, _)| name.as_str())
    }

    /// The services: everything under services/, and the dashboard in web/.
    fn is_service(&self) -> bool {
        (self.manifest.contains("/services/") && self.name != "lifeline")
            || self.name == "lifeline-web"
    }
}

#[test]
fn the_forbidden_arrows_do_not_exist() {
    let members = members();
    assert!(members.len() >= 8, "the workspace was not read");
    let services: Vec<&str> = members
        .iter()
        .filter(|m| m.is_service())
        .map(|m| m.name.as_str())
        .collect();
    assert!(services.contains(&"lifeline-ingest") && services.contains(&"lifeline-scheduler"));
    assert!(services.contains(&"lifeline-web"));
    let mut broken = Vec::new();
    for m in &members {
        for dep in m.normal_deps() {
            let ours = dep.starts_with("lifeline");
            if m.is_service() && services.contains(&dep) {
                broken.push(format!(
                    "{} → {dep}: a service depends on a service",
                    m.name
                ));
            }
            // The base: the rules and the settings loader stand alone; the ops code reads its
            // log settings through the loader.
            let base_may = match m.name.as_str() {
                "lifeline-domain" | "lifeline-settings" => Some(&[][..]),
                "lifeline-ops" => Some(&["lifeline-settings"][..]),
                _ => None,
            };
            if ours && base_may.is_some_and(|allowed| !allowed.contains(&dep)) {
                broken.push(format!("{} → {dep}: a base crate depends on ours", m.name));
            }
            if dep.starts_with("diesel")
                && !["lifeline-store", "lifeline-testkit"].contains(&m.name.as_str())
            {
                broken.push(format!("{} → {dep}: diesel outside the store", m.name));
            }
            if dep == "lifeline-testkit" {
                broken.push(format!(
                    "{} → {dep}: the test kit as a normal dependency",
                    m.name
                ));
            }
            if dep == "async-stripe" && m.name != "lifeline-billing" {
                broken.push(format!("{} → {dep}: Stripe outside billing", m.name));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The operator's team scope (`TeamScope::for_operator*`) exists only with the store's `operator`
/// feature. Only the `lifeline` binary (for `lifeline admin`) and the test kit may turn it on, so
/// no web or ingest code can reach a team without a membership or key.
#[test]
fn only_the_operator_cli_reaches_the_operator_scope() {
    let allowed = ["lifeline", "lifeline-testkit"];
    let mut broken = Vec::new();
    let mut seen = false;
    for m in members() {
        for (dep, kind, features) in &m.deps {
            if dep == "lifeline-store" && features.iter().any(|f| f == "operator") {
                seen |= m.name == "lifeline";
                if kind.is_none() && !allowed.contains(&m.name.as_str()) {
                    broken.push(m.name.clone());
                }
            }
        }
    }
    assert!(
        seen,
        "the lifeline binary enables the operator feature (read correctly)"
    );
    assert!(broken.is_empty(), "operator scope enabled by {broken:?}");
}
