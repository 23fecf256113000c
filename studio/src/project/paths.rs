//! Where each project file lives, relative to the project root.

/// The marker folder that makes a folder a project root.
pub const ENVIRONMENTS: &str = "environments";
/// The variable catalogue.
pub const SHARED_VARIABLES: &str = "templates/shared-variables.json";
/// The function template folder.
pub const FUNCTION_TEMPLATE: &str = "templates/function-template";
/// The API gateway's route table.
pub const ROUTES: &str = "functions/api-gateway/routes.json";
/// The allow-list of intended differences between environments.
pub const DRIFT_ALLOW: &str = "environments/drift-allow.json";
/// The folder of function folders.
pub const FUNCTIONS: &str = "functions";
/// Shared code of the functions, not a function itself.
pub const SHARED_CODE: &str = "shared";
/// Collection schemas.
pub const COLLECTIONS: &str = "schemas/collections";
/// Database schemas.
pub const DATABASES: &str = "schemas/databases";

/// `environments/ENV/appwrite.json`.
pub fn appwrite(env: &str) -> String {
    format!("environments/{env}/appwrite.json")
}

/// `environments/ENV/variables.json`.
pub fn variables(env: &str) -> String {
    format!("environments/{env}/variables.json")
}

/// `functions/NAME/function.json`.
pub fn function_manifest(name: &str) -> String {
    format!("functions/{name}/function.json")
}

/// `functions/NAME/dependencies.json`.
pub fn dependencies(name: &str) -> String {
    format!("functions/{name}/dependencies.json")
}

/// A file inside a function folder.
pub fn function_file(name: &str, file: &str) -> String {
    format!("functions/{name}/{file}")
}

/// `schemas/collections/ID.json`.
pub fn collection(id: &str) -> String {
    format!("{COLLECTIONS}/{id}.json")
}

/// `schemas/databases/ID.json`.
pub fn database(id: &str) -> String {
    format!("{DATABASES}/{id}.json")
}
