//! Permission strings (`read("user:u1")`), roles, and the checks Appwrite's Authorization does.

use crate::error::{types, ApiError, ApiResult};

pub const READ: &str = "read";
pub const CREATE: &str = "create";
pub const UPDATE: &str = "update";
pub const DELETE: &str = "delete";

/// Actions a collection, table or bucket accepts in its own permissions.
pub const RESOURCE_ACTIONS: &[&str] = &[CREATE, READ, UPDATE, DELETE];
/// Actions a document, row or file accepts (no document-level create).
pub const ITEM_ACTIONS: &[&str] = &[READ, UPDATE, DELETE];

const ROLES: &[&str] = &["any", "guests", "users", "user", "team", "member", "label"];

/// A parsed permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub action: String,
    pub role: String,
}

impl Permission {
    pub fn to_wire(&self) -> String {
        format!("{}(\"{}\")", self.action, self.role)
    }
}

/// Parses one permission string as utopia's `Permission::parse` does.
pub fn parse(permission: &str) -> Result<Permission, String> {
    let parts: Vec<&str> = permission.split("(\"").collect();
    if parts.len() != 2 {
        return Err(format!("Invalid permission string format: \"{permission}\"."));
    }
    let action = parts[0];
    if ![READ, CREATE, UPDATE, DELETE, "write"].contains(&action) {
        return Err(format!("Invalid permission type: \"{action}\"."));
    }
    let role = parts[1].replace("\")", "");
    validate_role(&role)?;
    Ok(Permission { action: action.to_string(), role })
}

/// Validates a role string (`any`, `user:ID/verified`, `team:T/owner`, `label:x`, …).
pub fn validate_role(full: &str) -> Result<(), String> {
    let (base, dimension) = match full.split_once('/') {
        Some((b, d)) => (b, d),
        None => (full, ""),
    };
    if dimension.contains('/') {
        return Err("Only one dimension can be provided".into());
    }
    let (role, identifier) = match base.split_once(':') {
        Some((r, i)) => (r, i),
        None => (base, ""),
    };
    if !ROLES.contains(&role) {
        return Err(format!("Role \"{role}\" is not allowed. Must be one of: {}.", ROLES.join(", ")));
    }
    let (id_allowed, id_required, dim_allowed, dim_options): (bool, bool, bool, Option<&[&str]>) = match role {
        "any" | "guests" => (false, false, false, None),
        "users" => (false, false, true, Some(&["verified", "unverified"])),
        "user" => (true, true, true, Some(&["verified", "unverified"])),
        "team" => (true, true, true, None),
        "member" | "label" => (true, true, false, None),
        _ => unreachable!(),
    };
    if !id_allowed && !identifier.is_empty() {
        return Err(format!("Role \"{role}\" can not have an ID value."));
    }
    if id_required && identifier.is_empty() {
        return Err(format!("Role \"{role}\" must have an ID value."));
    }
    if !identifier.is_empty() {
        let valid = if role == "label" {
            identifier.len() <= 36 && identifier.bytes().all(|b| b.is_ascii_alphanumeric())
        } else {
            crate::ids::is_valid_id(identifier)
        };
        if !valid {
            let description = if role == "label" {
                "Value must be a valid string between 1 and 36 chars containing only alphanumeric chars"
            } else {
                crate::ids::KEY_DESCRIPTION
            };
            return Err(format!("Role \"{role}\" identifier value is invalid: {description}"));
        }
    }
    if !dim_allowed && !dimension.is_empty() {
        return Err(format!("Role \"{role}\" can not have a dimension value."));
    }
    if !dimension.is_empty() {
        if let Some(options) = dim_options {
            if !options.contains(&dimension) {
                return Err(format!(
                    "Role \"{role}\" dimension value is invalid. Must be one of: {}.",
                    options.join(", ")
                ));
            }
        }
        if dimension.len() > 81 || !crate::ids::is_valid_id(&dimension[..dimension.len().min(36)]) {
            return Err(format!("Role \"{role}\" dimension value is invalid: {}", crate::ids::KEY_DESCRIPTION));
        }
    }
    Ok(())
}

/// Validates a `permissions` param and expands `write` into the actions the resource allows,
/// removing duplicates (utopia's `Permissions` validator then `Permission::aggregate`).
pub fn normalize(param: &str, list: &[String], allowed: &[&str]) -> ApiResult<Vec<String>> {
    if list.len() > 100 {
        return Err(ApiError::invalid_param(param, "You can only provide up to 100 permissions."));
    }
    let mut out: Vec<String> = Vec::new();
    let mut allowed_with_write: Vec<&str> = allowed.to_vec();
    allowed_with_write.push("write");
    for raw in list {
        if raw == "*" {
            return Err(ApiError::invalid_param(param, "Wildcard permission \"*\" has been replaced. Use \"any\" instead."));
        }
        if raw.contains("role:") {
            return Err(ApiError::invalid_param(
                param,
                "Permissions using the \"role:\" prefix have been replaced. Use \"users\", \"guests\", or \"any\" instead.",
            ));
        }
        if !allowed_with_write.iter().any(|a| raw.starts_with(a)) {
            return Err(ApiError::invalid_param(
                param,
                &format!("Permission \"{raw}\" is not allowed. Must be one of: {}.", allowed_with_write.join(", ")),
            ));
        }
        let p = parse(raw).map_err(|m| ApiError::invalid_param(param, &m))?;
        let actions: Vec<&str> = if p.action == "write" {
            [CREATE, UPDATE, DELETE].into_iter().filter(|a| allowed.contains(a)).collect()
        } else {
            vec![p.action.as_str()]
        };
        for a in actions {
            let s = Permission { action: a.to_string(), role: p.role.clone() }.to_wire();
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

/// Roles named by `permissions` for `action`.
pub fn roles_for<'a>(permissions: &'a [String], action: &str) -> impl Iterator<Item = String> + 'a {
    let action = action.to_string();
    permissions.iter().filter_map(move |p| parse(p).ok().filter(|p| p.action == action).map(|p| p.role))
}

/// True when any role in `caller_roles` is granted `action` by `permissions`.
pub fn allows(permissions: &[String], action: &str, caller_roles: &[String]) -> bool {
    roles_for(permissions, action).any(|r| caller_roles.contains(&r))
}

/// A non-key caller may only grant roles it holds itself (`user_unauthorized` otherwise).
pub fn check_grantable(permissions: &[String], caller_roles: &[String]) -> ApiResult<()> {
    for p in permissions {
        let Ok(parsed) = parse(p) else { continue };
        if !caller_roles.contains(&parsed.role) {
            return Err(ApiError::msg(
                types::USER_UNAUTHORIZED,
                format!("Permissions must be one of: ({})", caller_roles.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Permissions a user gets on an item created without explicit ones.
pub fn default_for_user(user_id: &str) -> Vec<String> {
    [READ, UPDATE, DELETE].iter().map(|a| format!("{a}(\"user:{user_id}\")")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn write_expands_per_resource() {
        let p = normalize("permissions", &s(&["write(\"users\")", "read(\"any\")"]), ITEM_ACTIONS).unwrap();
        assert_eq!(p, s(&["update(\"users\")", "delete(\"users\")", "read(\"any\")"]));
        let p = normalize("permissions", &s(&["write(\"team:t1/owner\")"]), RESOURCE_ACTIONS).unwrap();
        assert_eq!(p, s(&["create(\"team:t1/owner\")", "update(\"team:t1/owner\")", "delete(\"team:t1/owner\")"]));
    }

    #[test]
    fn rejects_bad_permissions_with_appwrite_messages() {
        let cases = [
            ("*", "Wildcard permission \"*\" has been replaced. Use \"any\" instead."),
            ("read(\"role:all\")", "Permissions using the \"role:\" prefix have been replaced. Use \"users\", \"guests\", or \"any\" instead."),
            ("create(\"any\")", "Permission \"create(\"any\")\" is not allowed. Must be one of: read, update, delete, write."),
            ("read(\"nobody\")", "Role \"nobody\" is not allowed. Must be one of: any, guests, users, user, team, member, label."),
            ("read(\"user\")", "Role \"user\" must have an ID value."),
            ("read(\"any:x\")", "Role \"any\" can not have an ID value."),
            ("read(\"users/admins\")", "Role \"users\" dimension value is invalid. Must be one of: verified, unverified."),
            ("read(any)", "Invalid permission string format: \"read(any)\"."),
        ];
        for (input, message) in cases {
            let err = normalize("permissions", &s(&[input]), ITEM_ACTIONS).unwrap_err();
            assert_eq!(err.message, format!("Invalid `permissions` param: {message}"), "{input}");
        }
    }

    #[test]
    fn role_matching_and_granting() {
        let perms = s(&["read(\"user:u1\")", "update(\"users\")"]);
        assert!(allows(&perms, READ, &s(&["any", "user:u1"])));
        assert!(!allows(&perms, READ, &s(&["any", "user:u2", "users"])));
        assert!(allows(&perms, UPDATE, &s(&["users"])));
        assert!(check_grantable(&perms, &s(&["any", "users", "user:u1"])).is_ok());
        assert_eq!(check_grantable(&perms, &s(&["any", "users"])).unwrap_err().ty, types::USER_UNAUTHORIZED);
    }
}

/// Appwrite's authorization check: is `action` granted to any of `caller_roles` by `permissions`?
/// The error is `user_unauthorized` with utopia's `Authorization` description.
pub fn authorize(permissions: &[String], action: &str, caller_roles: &[String]) -> ApiResult<()> {
    let roles: Vec<String> = roles_for(permissions, action).collect();
    if roles.is_empty() {
        return Err(ApiError::msg(types::USER_UNAUTHORIZED, format!("No permissions provided for action '{action}'")));
    }
    if roles.iter().any(|r| caller_roles.contains(r)) {
        return Ok(());
    }
    Err(ApiError::msg(
        types::USER_UNAUTHORIZED,
        format!(
            "Missing \"{action}\" permission for role \"{}\". Only \"{}\" scopes are allowed and \"{}\" was given.",
            roles.last().unwrap(),
            php_json(caller_roles),
            php_json(&roles)
        ),
    ))
}

/// `json_encode` as PHP writes it: slashes escaped (`users\/verified`).
fn php_json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_default().replace('/', "\\/")
}
