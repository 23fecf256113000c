//! Routes: each names an existing function, `api_routes` agree with `routes.json`, versioned names.

use chrono::{Months, NaiveDate};

use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::paths;
use crate::project::model::Routes;
use crate::project::pointer::pointer;
use crate::project::Project;

/// The family name.
pub const FAMILY: &str = "routes";

/// The version number of a route path, `/v2/upload` → 2.
pub fn route_version(route: &str) -> Option<u32> {
    route.strip_prefix("/v")?.split('/').next()?.parse().ok()
}

/// Every route finding; with an environment, also that each route's function is registered there.
pub fn check(input: &CheckInput) -> Vec<Finding> {
    let project = input.project;
    let Some(routes) = &project.routes else {
        return project
            .functions
            .iter()
            .filter_map(|(name, dir)| dir.dependencies.as_ref().filter(|d| !d.api_routes.is_empty()).map(|_| name))
            .map(|name| {
                Finding::new(Level::Error, FAMILY, "routes-missing", paths::ROUTES, "", format!("{name} lists api_routes but there is no {}", paths::ROUTES))
                    .hint("create the route table or empty api_routes")
            })
            .collect();
    };
    let mut findings = Vec::new();
    for (path, route) in &routes.routes {
        let at = |field: &str| pointer(&["routes", path, field]);
        let mut ok = true;
        if !project.functions.contains_key(&route.function) {
            ok = false;
            findings.push(
                Finding::new(Level::Error, FAMILY, "route-unknown-function", paths::ROUTES, at("function"), format!("{} {path} → {}, which is not a function folder", route.method, route.function))
                    .hint(format!("create functions/{} (qw function create {}) or point the route at an existing function", route.function, route.function)),
            );
        } else {
            let listed = project.dependencies_of(&route.function).is_some_and(|d| d.api_routes.contains(path));
            if !listed {
                ok = false;
                findings.push(
                    Finding::new(Level::Warning, FAMILY, "route-not-listed", paths::ROUTES, at("function"), format!("{path} → {}, but {} does not list it in api_routes", route.function, paths::dependencies(&route.function)))
                        .hint(format!("add {path} to api_routes of {}", paths::dependencies(&route.function))),
                );
            }
        }
        if let (Some(operation), Some(version)) = (&route.operation, route_version(path)) {
            let expected = format!("{operation}-v{version}");
            if route.function != expected {
                ok = false;
                findings.push(
                    Finding::new(Level::Error, FAMILY, "route-naming", paths::ROUTES, at("function"), format!("{path} says operation {operation}, so its function must be {expected}, not {}", route.function))
                        .hint(format!("name the function {expected}, or drop \"operation\" from the route")),
                );
            }
        }
        for env in input.environments() {
            let Some(environment) = project.environments.get(env) else { continue };
            if project.functions.contains_key(&route.function) && environment.function(&route.function).is_none() {
                ok = false;
                findings.push(
                    Finding::new(Level::Error, FAMILY, "route-function-unregistered", paths::ROUTES, at("function"), format!("{path} → {}, which is not registered in {}", route.function, paths::appwrite(env)))
                        .hint(format!("add {} to the functions of {}", route.function, paths::appwrite(env)))
                        .env(env),
                );
            }
        }
        if ok {
            findings.push(Finding::new(Level::Ok, FAMILY, "route-ok", paths::ROUTES, pointer(&["routes", path]), format!("{} {path} → {}", route.method, route.function)));
        }
    }
    if route_version(&format!("/{}", routes.default_version)).is_some() && !routes.routes.keys().any(|r| r.starts_with(&format!("/{}/", routes.default_version))) {
        findings.push(
            Finding::new(Level::Error, FAMILY, "default-version-unused", paths::ROUTES, "/default_version", format!("default_version {} has no route", routes.default_version))
                .hint("set default_version to a version that has routes"),
        );
    }
    findings.extend(api_routes_findings(project));
    findings.extend(version_findings(routes));
    findings.extend(access_findings(routes));
    findings
}

fn date_of(info: &serde_json::Value, field: &str) -> Result<Option<NaiveDate>, String> {
    match info.get(field).and_then(|v| v.as_str()) {
        None => Ok(None),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| text.to_string()),
    }
}

fn version_number(version: &str) -> u32 {
    version.strip_prefix('v').and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The next `current` version after `version`, the one a deprecated version's users move to.
fn successor<'a>(routes: &'a Routes, version: &str) -> Option<(&'a String, &'a serde_json::Value)> {
    routes
        .versions
        .iter()
        .filter(|(v, info)| version_number(v) > version_number(version) && info.get("status").and_then(|s| s.as_str()) == Some("current"))
        .min_by_key(|(v, _)| version_number(v))
}

/// Deprecated versions against the policy: dates present, at least `deprecation_notice_months`
/// between `deprecated_at` and `sunset_at`, and `sunset_at` at least `support_months` after the
/// successor's `released_at` (the gateway's `routing.policy_problems` applies the same rule).
fn version_findings(routes: &Routes) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (version, info) in &routes.versions {
        let at = |field: &str| pointer(&["versions", version, field]);
        let mut dates = std::collections::BTreeMap::new();
        for field in ["released_at", "deprecated_at", "sunset_at"] {
            match date_of(info, field) {
                Ok(d) => {
                    dates.insert(field, d);
                }
                Err(text) => findings.push(
                    Finding::new(Level::Error, FAMILY, "version-date-invalid", paths::ROUTES, at(field), format!("{version} {field} {text:?} is not a date"))
                        .hint("write dates as YYYY-MM-DD"),
                ),
            }
        }
        if info.get("status").and_then(|s| s.as_str()) != Some("deprecated") {
            continue;
        }
        let (Some(Some(deprecated)), Some(Some(sunset))) = (dates.get("deprecated_at"), dates.get("sunset_at")) else {
            findings.push(
                Finding::new(Level::Error, FAMILY, "version-dates-missing", paths::ROUTES, pointer(&["versions", version]), format!("{version} is deprecated without deprecated_at and sunset_at"))
                    .hint("give the deprecated version the date its deprecation was announced and its last day of service"),
            );
            continue;
        };
        let Some(policy) = &routes.policy else {
            findings.push(
                Finding::new(Level::Warning, FAMILY, "version-policy-missing", paths::ROUTES, "/policy", format!("{version} is deprecated but routes.json states no deprecation policy"))
                    .hint("add policy: {deprecation_notice_months, support_months}"),
            );
            continue;
        };
        let mut ok = true;
        let notice_end = *deprecated + Months::new(policy.deprecation_notice_months);
        if *sunset < notice_end {
            ok = false;
            findings.push(
                Finding::new(Level::Error, FAMILY, "version-notice-short", paths::ROUTES, at("sunset_at"), format!("{version}: sunset {sunset} is less than {} months after its deprecation on {deprecated}", policy.deprecation_notice_months))
                    .hint(format!("move sunset_at to {notice_end} or later")),
            );
        }
        if let Some((next, next_info)) = successor(routes, version) {
            if let Ok(Some(released)) = date_of(next_info, "released_at") {
                let support_end = released + Months::new(policy.support_months);
                if *sunset < support_end {
                    ok = false;
                    findings.push(
                        Finding::new(Level::Error, FAMILY, "version-support-short", paths::ROUTES, at("sunset_at"), format!("{version}: sunset {sunset} is less than {} months after {next} was released on {released}", policy.support_months))
                            .hint(format!("move sunset_at to {support_end} or later")),
                    );
                }
            }
        }
        if ok {
            findings.push(Finding::new(Level::Ok, FAMILY, "version-policy-ok", paths::ROUTES, pointer(&["versions", version]), format!("{version} deprecated on {deprecated}, sunset on {sunset}, as the policy asks")));
        }
    }
    findings
}

/// Routes needing a scope that neither the default scopes nor any label grants.
fn access_findings(routes: &Routes) -> Vec<Finding> {
    let Some(access) = &routes.access else { return Vec::new() };
    let grantable: std::collections::BTreeSet<&String> = access.default_scopes.iter().chain(access.label_scopes.values().flatten()).collect();
    let mut findings = Vec::new();
    for (path, route) in &routes.routes {
        for scope in route.required_scopes.iter().filter(|s| !grantable.contains(s)) {
            findings.push(
                Finding::new(Level::Warning, FAMILY, "scope-ungrantable", paths::ROUTES, pointer(&["routes", path, "required_scopes"]), format!("{path} needs {scope}, which no user can hold"))
                    .hint(format!("add {scope} to access.default_scopes or to a label of access.label_scopes")),
            );
        }
    }
    findings
}

fn api_routes_findings(project: &Project) -> Vec<Finding> {
    let routes = project.routes.as_ref().map(|r| &r.routes);
    let mut findings = Vec::new();
    for (name, dir) in &project.functions {
        let Some(deps) = &dir.dependencies else { continue };
        for (i, path) in deps.api_routes.iter().enumerate() {
            let at = pointer(&["api_routes".to_string(), i.to_string()]);
            match routes.and_then(|r| r.get(path)) {
                None => findings.push(
                    Finding::new(Level::Error, FAMILY, "api-route-missing", paths::dependencies(name), at, format!("{name} lists {path}, which is not in {}", paths::ROUTES))
                        .hint(format!("add {path} → {name} to {} or remove it from api_routes", paths::ROUTES)),
                ),
                Some(route) if route.function != *name => findings.push(
                    Finding::new(Level::Error, FAMILY, "api-route-mismatch", paths::dependencies(name), at, format!("{name} lists {path}, but {} sends it to {}", paths::ROUTES, route.function))
                        .hint("make the route and api_routes name the same function"),
                ),
                Some(_) => {}
            }
        }
    }
    findings
}
