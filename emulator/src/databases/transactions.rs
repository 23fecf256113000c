//! Transactions: staged operations committed atomically.
//! (Filled in by the transactions work; until then every transaction ID is unknown.)

use serde_json::Value;

use super::Api;
use crate::context::Ctx;
use crate::error::{types, ApiError};
use crate::params::Params;
use crate::response::Reply;

#[allow(clippy::too_many_arguments)]
pub async fn stage_route(
    _ctx: &Ctx,
    _api: Api,
    _p: &Params,
    tid: &str,
    _action: &str,
    _document_id: Option<&str>,
    _payload: Value,
    _permissions: Option<Vec<String>>,
) -> Reply {
    Err(ApiError::with_arg(types::TRANSACTION_NOT_FOUND, tid))
}

pub async fn read_one(_ctx: &Ctx, _api: Api, _p: &Params, tid: &str, _selection: Option<Vec<String>>) -> Reply {
    Err(ApiError::with_arg(types::TRANSACTION_NOT_FOUND, tid))
}

pub async fn read_list(_ctx: &Ctx, _api: Api, _p: &Params, tid: &str, _queries: Vec<String>, _with_total: bool) -> Reply {
    Err(ApiError::with_arg(types::TRANSACTION_NOT_FOUND, tid))
}
