//! One HTTP/1.1 POST of an event to a webhook endpoint, on a connection of its own, within a
//! time limit.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long an endpoint has to answer a delivery.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// Bytes of an endpoint's answer read at most (the rest is not waited for).
const ANSWER_READ: usize = 4096;

/// Where a webhook posts to: an `http://` URL with a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    uri: Uri,
    authority: String,
    host: String,
    port: u16,
}

impl Endpoint {
    /// Reads a webhook URL, or says why it cannot be one.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let uri: Uri = url.parse().map_err(|_| format!("`{url}` is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "`{url}`: floorctl posts webhooks over plain HTTP; reach an HTTPS endpoint through a proxy on the site's network"
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

/// What came of a POST: the status an endpoint answered, or what went wrong.
pub type Answer = Result<u16, String>;

/// Posts `body` with `headers` to `endpoint`; the status it answered within [`ANSWER_WITHIN`].
pub async fn post(endpoint: &Endpoint, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
    match tokio::time::timeout(ANSWER_WITHIN, exchange(endpoint, headers, body)).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no answer within {} s", ANSWER_WITHIN.as_secs())),
    }
}

async fn exchange(endpoint: &Endpoint, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
    let stream = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
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
    let mut request = hyper::Request::post(path)
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
    let status = match answer {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read a little of the answer so the endpoint is not cut off mid-reply.
            let mut body = response.into_body();
            let mut read = 0;
            while read < ANSWER_READ {
                match body.frame().await {
                    Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
                    _ => break,
                }
            }
            Ok(status)
        }
        Err(e) => Err(e),
    };
    driver.abort();
    status
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
