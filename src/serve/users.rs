//! The service's users: `DIR/users.toml`, argon2id hashes only (a per-user
//! random salt, the library's default parameters), each user with a role
//! and an expert level. Never a plain password anywhere.

use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Problems, Result};
use crate::profile::ExpertLevel;

/// What a user may do (see the README's roles table).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Customers, invoices, their manifests and attachments; nothing about profiles.
    Viewer,
    /// Viewer, plus reading and editing profiles (the seed's "Invoice Usage
    /// Report Profiles permission") and pointing customers and invoices at them.
    Editor,
    /// Viewer, plus reading profiles and exporting samples.
    Finance,
    /// Viewer, plus reading profiles, rendering invoices and starting runs.
    Operator,
    /// Everything, plus users and the audit log.
    Admin,
}

/// One thing a request may need permission for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    ReadCatalogue,
    ReadProfiles,
    EditProfiles,
    ExportSamples,
    Render,
    Audit,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Editor,
        Role::Finance,
        Role::Operator,
        Role::Admin,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Finance => "finance",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    /// Whether the role grants a permission.
    pub fn may(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Viewer => permission == ReadCatalogue,
            Role::Editor => matches!(permission, ReadCatalogue | ReadProfiles | EditProfiles),
            Role::Finance => matches!(permission, ReadCatalogue | ReadProfiles | ExportSamples),
            Role::Operator => matches!(permission, ReadCatalogue | ReadProfiles | Render),
        }
    }
}

/// One user as `users.toml` holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    #[serde(default = "basic")]
    pub expert_level: String,
    /// The argon2id PHC string (algorithm, parameters, salt and hash).
    pub hash: String,
}

fn basic() -> String {
    ExpertLevel::Basic.key().to_string()
}

impl User {
    pub fn expert_level(&self) -> ExpertLevel {
        ExpertLevel::from_key(&self.expert_level).unwrap_or(ExpertLevel::Basic)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersFile {
    #[serde(default)]
    users: Vec<User>,
}

/// The users of a catalogue.
#[derive(Debug, Default)]
pub struct Users {
    path: PathBuf,
    users: Vec<User>,
}

/// A hash that no password matches, verified against when a user does not
/// exist, so a wrong name takes as long as a wrong password.
const NOBODY: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$bm9ib2R5bm9ib2R5$C2Yd4hYLJ8vr0ONPUTQJrVWgWC6c1AL3vBBTrpGlVIA";

impl Users {
    /// The users of the catalogue in `dir` (none when there is no file).
    pub fn load(dir: &Path) -> Result<Users> {
        let path = dir.join("users.toml");
        let users = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file: UsersFile = toml::from_str(&text).map_err(|e| {
                    Error::Invalid(Problems {
                        source: path.display().to_string(),
                        problems: vec![Problem {
                            path: String::new(),
                            message: format!("not valid: {e}"),
                        }],
                    })
                })?;
                file.users
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(&path, e)),
        };
        Ok(Users { path, users })
    }

    pub fn list(&self) -> &[User] {
        &self.users
    }

    /// Adds (or replaces) a user with a new password, and saves the file.
    pub fn add(
        &mut self,
        name: &str,
        role: Role,
        level: ExpertLevel,
        password: &str,
    ) -> Result<()> {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(Error::Usage(format!(
                "user name {name:?}: expected printable text"
            )));
        }
        if password.chars().count() < 8 {
            return Err(Error::Usage(
                "the password is shorter than 8 characters".into(),
            ));
        }
        let hash = hash_password(password)?;
        self.users.retain(|u| u.name != name);
        self.users.push(User {
            name: name.to_string(),
            role,
            expert_level: level.key().to_string(),
            hash,
        });
        self.users.sort_by(|a, b| a.name.cmp(&b.name));
        let text = toml::to_string_pretty(&UsersFile {
            users: self.users.clone(),
        })
        .expect("users serialise");
        crate::output::write_atomically(&self.path, text.as_bytes())
    }

    /// The user whose name and password these are. Takes as long for an
    /// unknown name as for a wrong password.
    pub fn verify(&self, name: &str, password: &str) -> Option<&User> {
        let user = self.users.iter().find(|u| u.name == name);
        let hash = user.map_or(NOBODY, |u| u.hash.as_str());
        let parsed = PasswordHash::new(hash).ok()?;
        let good = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        user.filter(|_| good)
    }
}

fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt)
        .map_err(|e| Error::Usage(format!("no random numbers for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).expect("16 bytes encode");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Usage(format!("hashing the password: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_table_says() {
        assert!(!Role::Viewer.may(Permission::ReadProfiles));
        assert!(Role::Editor.may(Permission::EditProfiles));
        assert!(!Role::Finance.may(Permission::EditProfiles));
        assert!(Role::Finance.may(Permission::ExportSamples));
        assert!(!Role::Operator.may(Permission::ExportSamples));
        assert!(Role::Operator.may(Permission::Render));
        assert!(!Role::Editor.may(Permission::Audit));
        assert!(Role::Admin.may(Permission::Audit));
    }

    #[test]
    fn passwords_are_stored_as_argon2id_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::load(dir.path()).unwrap();
        users
            .add("ana", Role::Editor, ExpertLevel::Basic, "correct horse")
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("users.toml")).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("correct horse"));
        let users = Users::load(dir.path()).unwrap();
        assert_eq!(
            users.verify("ana", "correct horse").unwrap().role,
            Role::Editor
        );
        assert!(users.verify("ana", "wrong horse").is_none());
        assert!(users.verify("bob", "correct horse").is_none());
        // The stand-in hash parses, so unknown users cost a verification too.
        assert!(PasswordHash::new(NOBODY).is_ok());
    }
}
