//! Just enough of MQTT 3.1.1's wire format for a gateway to read who connects and which topics
//! a client publishes and subscribes to: frames, CONNECT (read and rewritten), the topic of a
//! PUBLISH, the filters of a SUBSCRIBE.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Packet types by the high nibble of the first byte.
pub(super) const CONNECT: u8 = 1;
pub(super) const PUBLISH: u8 = 3;
pub(super) const SUBSCRIBE: u8 = 8;

/// One whole packet as it came: the first byte and the bytes after the length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame {
    pub first: u8,
    pub body: Vec<u8>,
}

impl Frame {
    /// The packet type.
    pub(super) fn kind(&self) -> u8 {
        self.first >> 4
    }

    /// The packet as bytes on the wire.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 5);
        out.push(self.first);
        let mut len = self.body.len();
        loop {
            let mut b = (len % 128) as u8;
            len /= 128;
            if len > 0 {
                b |= 0x80;
            }
            out.push(b);
            if len == 0 {
                break;
            }
        }
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reads one packet; `None` when the peer closed between packets. A packet longer than `max`
/// bytes or a malformed length is an error.
pub(super) async fn read_frame<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
) -> Result<Option<Frame>, String> {
    let first = match r.read_u8().await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut len = 0usize;
    for i in 0..4 {
        let b = r.read_u8().await.map_err(|e| e.to_string())?;
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if len > max {
                return Err(format!(
                    "packet of {len} bytes is over the {max}-byte limit"
                ));
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).await.map_err(|e| e.to_string())?;
            return Ok(Some(Frame { first, body }));
        }
    }
    Err("malformed remaining length".into())
}

/// Reads the fields of a packet body in order.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.bytes.len() < n {
            return Err("packet ends early".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    fn string(&mut self) -> Result<String, String> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| "a string is not UTF-8".to_string())
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// A CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Connect {
    pub protocol: String,
    pub level: u8,
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: String,
    /// Will topic, message, QoS and retain flag.
    pub will: Option<(String, Vec<u8>, u8, bool)>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
}

impl Connect {
    pub(super) fn parse(body: &[u8]) -> Result<Connect, String> {
        let mut c = Cursor { bytes: body };
        let protocol = c.string()?;
        let level = c.u8()?;
        let flags = c.u8()?;
        if flags & 1 != 0 {
            return Err("reserved connect flag set".into());
        }
        let keep_alive = c.u16()?;
        let client_id = c.string()?;
        let will = if flags & 0x04 != 0 {
            let topic = c.string()?;
            let msg = c.bytes()?.to_vec();
            Some((topic, msg, (flags >> 3) & 3, flags & 0x20 != 0))
        } else {
            None
        };
        let username = (flags & 0x80 != 0).then(|| c.string()).transpose()?;
        let password = (flags & 0x40 != 0)
            .then(|| c.bytes().map(<[u8]>::to_vec))
            .transpose()?;
        if !c.bytes.is_empty() {
            return Err("bytes after the connect payload".into());
        }
        Ok(Connect {
            protocol,
            level,
            clean_session: flags & 0x02 != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
        })
    }

    pub(super) fn to_frame(&self) -> Frame {
        let mut flags = 0u8;
        if self.clean_session {
            flags |= 0x02;
        }
        if let Some((_, _, qos, retain)) = &self.will {
            flags |= 0x04 | (qos << 3) | if *retain { 0x20 } else { 0 };
        }
        if self.username.is_some() {
            flags |= 0x80;
        }
        if self.password.is_some() {
            flags |= 0x40;
        }
        let mut body = Vec::new();
        put_bytes(&mut body, self.protocol.as_bytes());
        body.push(self.level);
        body.push(flags);
        body.extend_from_slice(&self.keep_alive.to_be_bytes());
        put_bytes(&mut body, self.client_id.as_bytes());
        if let Some((topic, msg, _, _)) = &self.will {
            put_bytes(&mut body, topic.as_bytes());
            put_bytes(&mut body, msg);
        }
        if let Some(u) = &self.username {
            put_bytes(&mut body, u.as_bytes());
        }
        if let Some(p) = &self.password {
            put_bytes(&mut body, p);
        }
        Frame {
            first: CONNECT << 4,
            body,
        }
    }
}

/// A CONNACK with a return code (0 accepted, 1 protocol version, 4 bad user name or password,
/// 5 not authorised).
pub(super) fn connack(code: u8) -> Frame {
    Frame {
        first: 0x20,
        body: vec![0, code],
    }
}

/// The topic a PUBLISH packet is sent to.
pub(super) fn publish_topic(body: &[u8]) -> Result<String, String> {
    Cursor { bytes: body }.string()
}

/// The topic filters of a SUBSCRIBE packet.
pub(super) fn subscribe_filters(body: &[u8]) -> Result<Vec<String>, String> {
    let mut c = Cursor { bytes: body };
    c.u16()?;
    let mut filters = Vec::new();
    while !c.bytes.is_empty() {
        filters.push(c.string()?);
        c.u8()?;
    }
    if filters.is_empty() {
        return Err("a subscribe without filters".into());
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect() -> Connect {
        Connect {
            protocol: "MQTT".into(),
            level: 4,
            clean_session: true,
            keep_alive: 30,
            client_id: "h1".into(),
            will: Some((
                "floorctl/s/scanners/h1/up/presence".into(),
                b"{}".to_vec(),
                1,
                true,
            )),
            username: Some("h1".into()),
            password: Some(b"h1-secret".to_vec()),
        }
    }

    #[tokio::test]
    async fn a_connect_reads_back_as_written_through_a_frame() {
        let bytes = connect().to_frame().to_bytes();
        let frame = read_frame(&mut bytes.as_slice(), 1024)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(frame.kind(), CONNECT);
        assert_eq!(Connect::parse(&frame.body).unwrap(), connect());
        let bare = Connect {
            will: None,
            username: None,
            password: None,
            ..connect()
        };
        assert_eq!(Connect::parse(&bare.to_frame().body).unwrap(), bare);
    }

    #[tokio::test]
    async fn long_lengths_round_trip_and_oversized_or_malformed_ones_are_refused() {
        let f = Frame {
            first: 0x30,
            body: vec![7; 20_000],
        };
        let bytes = f.to_bytes();
        assert_eq!(&bytes[1..4], &[0xa0, 0x9c, 0x01]);
        assert_eq!(
            read_frame(&mut bytes.as_slice(), 20_000).await.unwrap(),
            Some(f)
        );
        assert!(read_frame(&mut bytes.as_slice(), 19_999)
            .await
            .unwrap_err()
            .contains("limit"));
        let bad = [0x30u8, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(read_frame(&mut bad.as_slice(), 1 << 30).await.is_err());
        assert_eq!(read_frame(&mut [].as_slice(), 10).await.unwrap(), None);
        assert!(read_frame(&mut [0x30u8, 5, 1].as_slice(), 10)
            .await
            .is_err());
    }

    #[test]
    fn truncated_or_padded_packets_are_errors() {
        let body = connect().to_frame().body;
        assert!(Connect::parse(&body[..body.len() - 1]).is_err());
        let mut padded = body.clone();
        padded.push(0);
        assert!(Connect::parse(&padded).is_err());
        assert!(publish_topic(&[0, 5, b'a']).is_err());
        assert!(subscribe_filters(&[0, 1]).is_err());
    }

    #[test]
    fn publish_topics_and_subscribe_filters_are_read() {
        let mut body = Vec::new();
        put_bytes(&mut body, b"a/b");
        body.extend_from_slice(&[0, 9, b'x']);
        assert_eq!(publish_topic(&body).unwrap(), "a/b");
        let mut sub = vec![0, 1];
        put_bytes(&mut sub, b"a/#");
        sub.push(1);
        put_bytes(&mut sub, b"c/+");
        sub.push(0);
        assert_eq!(subscribe_filters(&sub).unwrap(), ["a/#", "c/+"]);
    }
}
