//! What one listener may take: a cap on its connections, a smaller one per peer address, and an
//! idle limit on each connection, so a flood of connections on one listener (the dashboard, the
//! MQTT gateway) is refused at the door and can never use up the file handles the PLC links
//! and the database need.

use crate::telemetry::names;
use std::collections::HashMap;
use std::future::Future as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// File handles kept for everything but the listeners (PLC links, the database, the broker's
/// own connections, files).
const RESERVED_HANDLES: usize = 256;

/// The caps of one listener.
#[derive(Debug)]
pub struct Limits {
    name: &'static str,
    total: Arc<Semaphore>,
    per_peer: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
    idle: Duration,
}

/// An admitted connection's place; given back when dropped.
#[derive(Debug)]
pub struct Admission {
    limits: Arc<Limits>,
    peer: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

/// The process's limit on open files, from `/proc/self/limits` (where there is one).
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

impl Limits {
    /// At most `total` connections at once on the listener `name` (fewer when the process may
    /// not open that many files beside the reserve: its share is `share` of what is left, in
    /// connections), `per_peer` from one address, each closed after `idle` without a byte
    /// either way.
    pub fn new(
        name: &'static str,
        total: usize,
        share: f64,
        per_peer: usize,
        idle: Duration,
    ) -> Arc<Limits> {
        let room = open_files_limit()
            .map(|n| (n.saturating_sub(RESERVED_HANDLES) as f64 * share) as usize)
            .unwrap_or(total);
        if room < total {
            tracing::warn!(
                listener = name,
                connections = room,
                "the open-file limit allows this listener only so many connections; raise it \
                 (LimitNOFILE in the systemd unit, ulimit -n in a shell) for more"
            );
        }
        Arc::new(Limits {
            name,
            total: Arc::new(Semaphore::new(total.min(room).max(1))),
            per_peer: per_peer.max(1),
            open: Mutex::new(HashMap::new()),
            idle,
        })
    }

    /// A place for a connection from `peer`, or `None` when the listener or the peer is full.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Admission> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(peer).or_insert(0);
        if *n >= self.per_peer {
            return None;
        }
        let permit = self.total.clone().try_acquire_owned().ok()?;
        *n += 1;
        Some(Admission {
            limits: self.clone(),
            peer,
            _permit: permit,
        })
    }

    /// Accepts the next connection this listener admits; refused ones are closed at once.
    pub async fn accept(self: &Arc<Self>, listener: &TcpListener) -> (Guarded, SocketAddr) {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(err) => {
                    // Out of file handles, say: wait rather than spin.
                    tracing::warn!(listener = self.name, %err, "cannot accept; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match self.admit(peer.ip()) {
                Some(admission) => {
                    return (Guarded::new(stream, admission, self.idle), peer);
                }
                None => {
                    metrics::counter!(names::CONNECTIONS_REFUSED_TOTAL, "listener" => self.name)
                        .increment(1);
                    drop(stream);
                }
            }
        }
    }
}

/// A TCP listener behind its [`Limits`], for axum.
#[derive(Debug)]
pub struct LimitedListener {
    /// The socket.
    pub listener: TcpListener,
    /// Its caps.
    pub limits: Arc<Limits>,
}

impl axum::serve::Listener for LimitedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Guarded, SocketAddr) {
        self.limits.accept(&self.listener).await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

/// The peer address of a request that came through a [`LimitedListener`].
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, LimitedListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, LimitedListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// A connection that holds its place and ends after its idle time without a byte.
#[derive(Debug)]
pub struct Guarded {
    stream: TcpStream,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    _admission: Admission,
}

impl Guarded {
    fn new(stream: TcpStream, admission: Admission, idle: Duration) -> Guarded {
        Guarded {
            stream,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            _admission: admission,
        }
    }

    /// The socket, for a task that splits it (the place is held by the returned admission).
    pub fn into_parts(self) -> (TcpStream, Admission) {
        (self.stream, self._admission)
    }

    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn idle_error() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle too long")
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(idle_error())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending if this.timed_out(cx) => Poll::Ready(Err(idle_error())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_gets_its_share_and_the_listener_its_total() {
        let limits = Limits::new("test", 3, 1.0, 2, Duration::from_secs(1));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limits.admit(a).unwrap();
        let _second = limits.admit(a).unwrap();
        assert!(limits.admit(a).is_none(), "two per peer");
        let _third = limits.admit(b).unwrap();
        assert!(limits.admit(b).is_none(), "three in all");
        drop(first);
        assert!(
            limits.admit(b).is_some(),
            "a place given back is taken again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_silent_past_its_idle_time_is_ended_and_its_place_given_back() {
        use tokio::io::AsyncReadExt;
        let limits = Limits::new("test", 1, 1.0, 1, Duration::from_secs(60));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (mut conn, _) = limits.accept(&listener).await;
        assert!(
            limits.admit("127.0.0.1".parse().unwrap()).is_none(),
            "its place is taken"
        );
        let started = Instant::now();
        let mut buf = [0u8; 8];
        let err = conn.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(60));
        drop(conn);
        assert!(limits.admit("127.0.0.1".parse().unwrap()).is_some());
    }
}
