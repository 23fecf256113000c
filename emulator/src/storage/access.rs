//! Who may do what with a bucket's files: Appwrite's bucket-level and file-level (`fileSecurity`)
//! permission rules, decided from the caller's roles. API keys pass every check.

use rusqlite::Transaction;

use super::store::{self, BucketRow, FileRow};
use crate::context::Ctx;
use crate::error::{types, ApiError, ApiResult};
use crate::permissions::{self, ITEM_ACTIONS};

/// The caller, as the blocking storage code needs it.
#[derive(Debug, Clone)]
pub struct Access {
    pub is_key: bool,
    pub roles: Vec<String>,
    pub user_id: Option<String>,
}

/// How a read of a bucket's files is decided once the bucket-level check is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadGate {
    /// The bucket grants read (or the caller is a key): every file is readable.
    Bucket,
    /// File security is on and the bucket does not grant read: each file's own permissions decide.
    PerFile,
}

impl Access {
    pub fn of(ctx: &Ctx) -> Access {
        Access { is_key: ctx.is_key(), roles: ctx.roles(), user_id: ctx.caller.user().map(|u| u.id.clone()) }
    }

    /// The bucket behind a file route: missing, or disabled for anyone but a key, is
    /// `storage_bucket_not_found`.
    pub fn bucket(&self, tx: &Transaction, id: &str) -> ApiResult<BucketRow> {
        store::get_bucket(tx, id)?
            .filter(|b| b.enabled || self.is_key)
            .ok_or_else(|| ApiError::of(types::STORAGE_BUCKET_NOT_FOUND))
    }

    /// `action` granted by the bucket's own permissions (`user_unauthorized` with utopia's
    /// description otherwise).
    pub fn bucket_allows(&self, b: &BucketRow, action: &str) -> ApiResult<()> {
        if self.is_key {
            return Ok(());
        }
        permissions::authorize(&b.permissions, action, &self.roles)
    }

    /// The gate of get, list, download, view and preview: without bucket read and with file
    /// security off the answer is 401; with file security on, each file's read decides.
    pub fn read_gate(&self, b: &BucketRow) -> ApiResult<ReadGate> {
        match self.bucket_allows(b, permissions::READ) {
            Ok(()) => Ok(ReadGate::Bucket),
            Err(_) if b.file_security => Ok(ReadGate::PerFile),
            Err(e) => Err(e),
        }
    }

    /// The file behind a read route, hidden as `storage_file_not_found` when the caller may not
    /// read it (or it does not exist).
    pub fn readable_file(&self, tx: &Transaction, b: &BucketRow, gate: ReadGate, id: &str) -> ApiResult<FileRow> {
        store::get_file(tx, b.seq, id)?
            .filter(|f| gate == ReadGate::Bucket || self.file_allows(b, f, permissions::READ).is_ok())
            .ok_or_else(|| ApiError::of(types::STORAGE_FILE_NOT_FOUND))
    }

    /// utopia's document check: the bucket's permissions plus, with file security, the file's.
    pub fn file_allows(&self, b: &BucketRow, f: &FileRow, action: &str) -> ApiResult<()> {
        if self.is_key {
            return Ok(());
        }
        let mut perms = b.permissions.clone();
        if b.file_security {
            perms.extend(f.permissions.iter().cloned());
        }
        permissions::authorize(&perms, action, &self.roles)
    }

    /// The permissions of a new file: the given ones, or full rights for a signed-in user who
    /// passed none; a caller other than a key may only grant roles it holds.
    pub fn new_permissions(&self, given: Option<Vec<String>>) -> ApiResult<Vec<String>> {
        let perms = match given {
            Some(p) => p,
            None => match &self.user_id {
                Some(u) if !self.is_key => permissions::default_for_user(u),
                _ => Vec::new(),
            },
        };
        self.grantable(&perms)?;
        Ok(perms)
    }

    /// Non-key callers may only grant roles they hold.
    pub fn grantable(&self, perms: &[String]) -> ApiResult<()> {
        if self.is_key {
            return Ok(());
        }
        permissions::check_grantable(perms, &self.roles)
    }
}

/// Validates a file `permissions` param (`write` becomes update + delete).
pub fn file_permissions_param(list: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    list.map(|l| permissions::normalize("permissions", &l, ITEM_ACTIONS)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(perms: &[&str], file_security: bool) -> BucketRow {
        BucketRow {
            seq: 1,
            id: "b".into(),
            name: "b".into(),
            description: String::new(),
            permissions: perms.iter().map(|s| s.to_string()).collect(),
            file_security,
            enabled: true,
            maximum_file_size: 1,
            allowed_file_extensions: vec![],
            compression: "none".into(),
            encryption: true,
            antivirus: true,
            transformations: true,
            strip_metadata: false,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn file(perms: &[&str]) -> FileRow {
        FileRow {
            seq: 1,
            bucket_seq: 1,
            bucket_id: "b".into(),
            id: "f".into(),
            name: "a.txt".into(),
            folder: String::new(),
            permissions: perms.iter().map(|s| s.to_string()).collect(),
            signature: String::new(),
            mime_type: String::new(),
            size_original: 1,
            size_actual: 1,
            chunks_total: 1,
            chunks_uploaded: 1,
            parts: vec![1],
            algorithm: "none".into(),
            encrypted: false,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn user(id: &str) -> Access {
        Access { is_key: false, roles: vec!["any".into(), format!("user:{id}"), "users".into()], user_id: Some(id.into()) }
    }

    #[test]
    fn read_gate_follows_file_security() {
        let alice = user("alice");
        assert_eq!(alice.read_gate(&bucket(&["read(\"users\")"], false)).unwrap(), ReadGate::Bucket);
        assert_eq!(alice.read_gate(&bucket(&[], true)).unwrap(), ReadGate::PerFile);
        let e = alice.read_gate(&bucket(&[], false)).unwrap_err();
        assert_eq!((e.ty, e.message.as_str()), (types::USER_UNAUTHORIZED, "No permissions provided for action 'read'"));
        let key = Access { is_key: true, roles: vec!["any".into()], user_id: None };
        assert_eq!(key.read_gate(&bucket(&[], false)).unwrap(), ReadGate::Bucket);
    }

    #[test]
    fn file_permissions_count_only_with_file_security() {
        let alice = user("alice");
        let f = file(&["read(\"user:alice\")"]);
        assert!(alice.file_allows(&bucket(&[], true), &f, "read").is_ok());
        assert!(alice.file_allows(&bucket(&[], false), &f, "read").is_err());
        assert!(user("bob").file_allows(&bucket(&[], true), &f, "read").is_err());
    }

    #[test]
    fn default_and_granted_permissions() {
        let alice = user("alice");
        assert_eq!(
            alice.new_permissions(None).unwrap(),
            vec!["read(\"user:alice\")", "update(\"user:alice\")", "delete(\"user:alice\")"]
        );
        assert_eq!(alice.new_permissions(Some(vec!["read(\"user:bob\")".into()])).unwrap_err().ty, types::USER_UNAUTHORIZED);
        let guest = Access { is_key: false, roles: vec!["any".into(), "guests".into()], user_id: None };
        assert!(guest.new_permissions(None).unwrap().is_empty());
    }
}
