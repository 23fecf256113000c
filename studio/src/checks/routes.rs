//! Routes: each names an existing function, `api_routes` agree with `routes.json`, versioned names.

use super::CheckInput;
use crate::finding::{Finding, Level};
use crate::project::paths;
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
