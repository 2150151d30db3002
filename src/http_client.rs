//! A small HTTP/1.1 client over plain TCP (hyper's): one request on a connection of its own,
//! within a time limit. It posts webhooks and carries the command line's calls to a running
//! controller's API.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long an endpoint has to answer.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Where a request goes: an `http://` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    uri: Uri,
    authority: String,
    host: String,
    port: u16,
}

impl Endpoint {
    /// Reads a URL, or says why floorctl cannot send to it.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let uri: Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "`{url}`: floorctl speaks plain HTTP; reach an HTTPS endpoint through a proxy on the site's network"
                ))
            }
            _ => return Err(format!("`{url}` must begin with http://")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{url}` names no host"))?;
        Ok(Endpoint {
            host: authority.host().to_string(),
            port: authority.port_u16().unwrap_or(80),
            authority: authority.to_string(),
            uri,
        })
    }
}

/// An answer: its status and (the first bytes of) its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body, up to the bytes asked for.
    pub body: Vec<u8>,
}

/// Sends `method` with `headers` and `body` to `endpoint`; the answer within [`ANSWER_WITHIN`],
/// its body read up to `read` bytes (the rest is not waited for), or what went wrong.
pub async fn request(
    endpoint: &Endpoint,
    method: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    read: usize,
) -> Result<Reply, String> {
    let exchange = exchange(endpoint, method, headers, body, read);
    match tokio::time::timeout(ANSWER_WITHIN, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no answer within {} s", ANSWER_WITHIN.as_secs())),
    }
}

/// Posts `body` with `headers` to `endpoint`; the status it answered.
pub async fn post(
    endpoint: &Endpoint,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<u16, String> {
    // A little of the answer is read, so the endpoint is not cut off mid-reply.
    request(endpoint, "POST", headers, body, 4096)
        .await
        .map(|r| r.status)
}

async fn exchange(
    endpoint: &Endpoint,
    method: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    read: usize,
) -> Result<Reply, String> {
    let stream = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| format!("cannot connect to {}: {e}", endpoint.authority))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("cannot speak HTTP: {e}"))?;
    let driver = tokio::spawn(connection);
    let path = endpoint
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, &endpoint.authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "floorctl");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let answer = sender
        .send_request(request)
        .await
        .map_err(|e| format!("the request failed: {e}"));
    let reply = match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            let mut body = response.into_body();
            let mut got = Vec::new();
            while got.len() < read {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(d) = frame.data_ref() {
                            got.extend_from_slice(&d[..d.len().min(read - got.len())]);
                        }
                    }
                    _ => break,
                }
            }
            Ok(Reply { status, body: got })
        }
        Err(e) => Err(e),
    };
    driver.abort();
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_plain_http_with_a_host() {
        let e = Endpoint::parse("http://erp.local:8080/hooks/floor?x=1").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("erp.local", 8080));
        assert_eq!(Endpoint::parse("http://erp.local/h").unwrap().port, 80);
        assert!(Endpoint::parse("https://erp.local/h")
            .unwrap_err()
            .contains("proxy"));
        assert!(Endpoint::parse("ftp://erp.local/h")
            .unwrap_err()
            .contains("http://"));
        assert!(Endpoint::parse("/hooks").unwrap_err().contains("http://"));
        assert!(Endpoint::parse("not a url")
            .unwrap_err()
            .contains("not a URL"));
    }
}
