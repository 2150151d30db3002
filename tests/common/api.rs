//! Calling the HTTP API as a shop or WMS would: a service account's token, a call with it, the
//! answer as JSON.

use std::net::SocketAddr;

use super::http::{request, Answer};
use floorctl::api::token;
use floorctl::store::{ApiToken, Store};

/// Makes a service account on a controller's database and returns its token.
pub async fn service_account(store: &Store, name: &str, scopes: &[&str]) -> String {
    let secret = token::new();
    let t = ApiToken {
        name: name.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        sites: None,
        created: 0,
        revoked: None,
    };
    assert!(store.add_token(&t, &token::hash(&secret)).await.unwrap());
    secret
}

/// One API call with a bearer token (none when empty) and a JSON body.
pub async fn call(web: SocketAddr, method: &str, path: &str, token: &str, body: &str) -> Answer {
    let auth = format!("Bearer {token}");
    let mut headers = vec![("Content-Type", "application/json")];
    if !token.is_empty() {
        headers.push(("Authorization", auth.as_str()));
    }
    request(web, method, path, &headers, body).await
}

/// An answer's body as JSON.
pub fn json(a: &Answer) -> serde_json::Value {
    serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{e}: {}", a.body))
}

/// Checks an answer against the schema `name` of the OpenAPI document `doc`.
pub fn fits(doc: &serde_json::Value, name: &str, a: &Answer) {
    let mut schema = doc.clone();
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
    schema["$ref"] = format!("#/components/schemas/{name}").into();
    let v = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        !v.is_valid(&serde_json::json!({"not": "it"})),
        "schema {name} admits anything"
    );
    let body = json(a);
    let errors: Vec<String> = v.iter_errors(&body).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {body} — {errors:?}");
}

/// The OpenAPI document a controller serves.
pub async fn openapi(web: SocketAddr) -> serde_json::Value {
    let a = request(web, "GET", "/api/v1/openapi.json", &[], "").await;
    assert_eq!(a.status, 200);
    json(&a)
}
