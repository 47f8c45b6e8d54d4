//! The administrators' side of local accounts: list them, create one, change a person's name, department, roles or
//! whether the account is disabled, and set a new password. Only a session holding `admin` may; every change ends
//! the person's sessions, so new roles take effect at once and a disabled account is out at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use suiji_platform::auth::ROLE_ADMIN;

use crate::accounts::{Account, SaveError};
use crate::{ApiError, Caller, Console};

/// An account as an administrator edits it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    roles: Vec<String>,
    /// The person's inspector id in the directories; empty for none.
    #[serde(default)]
    inspector_id: String,
    #[serde(default)]
    disabled: bool,
    /// Required for a new account; empty keeps an existing account's password.
    #[serde(default)]
    password: String,
}

fn administrator(caller: Caller) -> Result<String, ApiError> {
    let session = caller.session()?;
    if !session.identity.has_role(ROLE_ADMIN) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "PermissionDenied",
            "only an administrator manages accounts",
        ));
    }
    Ok(session.identity.subject)
}

fn saved(error: SaveError) -> ApiError {
    match error {
        SaveError::Invalid(field, reason) => ApiError::invalid(field, reason),
        SaveError::Db(e) => ApiError::database(&e),
        SaveError::Hash(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal", e),
    }
}

/// `GET /console/api/accounts`.
pub async fn list(
    State(c): State<Console>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ApiError> {
    administrator(caller)?;
    let accounts = c
        .accounts
        .list()
        .await
        .map_err(|e| ApiError::database(&e))?;
    Ok(Json(
        accounts
            .iter()
            .map(|(a, locked)| {
                serde_json::json!({
                    "username": a.username, "displayName": a.display_name, "department": a.department,
                    "roles": a.roles, "inspectorId": a.inspector_id, "disabled": a.disabled, "locked": locked,
                })
            })
            .collect::<Vec<_>>(),
    )
    .into_response())
}

/// `PUT /console/api/accounts/{username}`: creates the account, or changes it (and its password when one is given).
pub async fn put(
    State(c): State<Console>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
    Json(form): Json<AccountForm>,
) -> Result<Response, ApiError> {
    let admin = administrator(caller)?;
    if form.display_name.trim().is_empty() {
        return Err(ApiError::invalid("displayName", "a name is required"));
    }
    let account = Account {
        username: username.trim().to_string(),
        display_name: form.display_name.trim().to_string(),
        department: form.department.trim().to_string(),
        roles: form.roles,
        inspector_id: Some(form.inspector_id.trim().to_string()).filter(|id| !id.is_empty()),
        disabled: form.disabled,
    };
    let exists = c
        .accounts
        .get(&account.username)
        .await
        .map_err(|e| ApiError::database(&e))?
        .is_some();
    if !exists && form.password.is_empty() {
        return Err(ApiError::invalid(
            "password",
            "a new account needs a password",
        ));
    }
    if form.password.is_empty() {
        c.accounts.update(&account).await.map_err(saved)?;
    } else {
        c.accounts
            .save(&account, &form.password)
            .await
            .map_err(saved)?;
    }
    let ended = c
        .sessions
        .revoke_subject(&account.username)
        .await
        .map_err(|e| ApiError::database(&e))?;
    tracing::info!(%admin, username = %account.username, department = %account.department, roles = ?account.roles,
        disabled = account.disabled, new_password = !form.password.is_empty(), sessions_ended = ended,
        "account saved");
    Ok(StatusCode::NO_CONTENT.into_response())
}
