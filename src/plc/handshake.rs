//! Commands with a sequence number, applied exactly once: the controller writes the command's
//! registers, then a fresh sequence number; the PLC takes each number once and echoes it. One
//! command is in flight at a time; the rest wait their turn. A command survives a reconnect: after
//! it the PLC's echo is read back before anything is written again.

use std::collections::VecDeque;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::Signal;

use super::modbus::{Link, RequestError};

/// Poll cycles a command may stay unacknowledged before it is written again (same number).
const RETRY_CYCLES: u32 = 3;

/// One command: register writes, then its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pending {
    /// For logs.
    pub(super) what: String,
    /// (address, words) written before the sequence number, in order.
    pub(super) writes: Vec<(u16, Vec<u16>)>,
    seq: Option<u16>,
    written_at: Option<u32>,
}

impl Pending {
    /// A command of these writes; writes that follow on from each other's last register are
    /// joined into one request (their order does not matter: only the sequence number, written
    /// after them all, makes the PLC act).
    pub(super) fn new(what: String, writes: Vec<(u16, Vec<u16>)>) -> Pending {
        Pending {
            what,
            writes: join_adjacent(writes),
            seq: None,
            written_at: None,
        }
    }
}

/// Registers one Modbus write (function 16) may carry.
const MAX_WRITE_REGISTERS: usize = 123;

/// Joins each write that starts where the one before it ends.
fn join_adjacent(writes: Vec<(u16, Vec<u16>)>) -> Vec<(u16, Vec<u16>)> {
    let mut joined: Vec<(u16, Vec<u16>)> = Vec::with_capacity(writes.len());
    for (addr, words) in writes {
        match joined.last_mut() {
            Some((start, run))
                if usize::from(*start) + run.len() == usize::from(addr)
                    && run.len() + words.len() <= MAX_WRITE_REGISTERS =>
            {
                run.extend(words);
            }
            _ => joined.push((addr, words)),
        }
    }
    joined
}

/// The queue of one command channel (diverts, PackML commands) of one PLC.
#[derive(Debug)]
pub(super) struct SeqChannel {
    seq: Signal,
    ack: Signal,
    queue: VecDeque<Pending>,
    last_seq: u16,
}

impl SeqChannel {
    pub(super) fn new(seq: &Signal, ack: &Signal) -> SeqChannel {
        SeqChannel {
            seq: seq.clone(),
            ack: ack.clone(),
            queue: VecDeque::new(),
            last_seq: 0,
        }
    }

    /// Queues a command; one equal to a command already waiting is not queued twice.
    pub(super) fn push(&mut self, p: Pending) {
        if !self.queue.iter().any(|q| q.writes == p.writes) {
            self.queue.push_back(p);
        }
    }

    /// Commands not yet acknowledged.
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    /// After a (re)connect, from the first image read: numbering continues from the PLC's
    /// sequence register, and a command in flight is written again unless the PLC echoes it.
    pub(super) fn resync(&mut self, img: &Image) {
        let plc_seq = img.get(&self.seq, 0) as u16;
        match self.queue.front_mut() {
            Some(head) if head.seq.is_some() => head.written_at = None,
            _ => self.last_seq = plc_seq,
        }
    }

    /// Retires the command in flight once the PLC echoes its number and writes the next one, or
    /// writes the one in flight again when it has gone unacknowledged too long.
    pub(super) async fn progress(
        &mut self,
        link: &mut Link<'_>,
        img: &Image,
        cycle: u32,
    ) -> Result<(), RequestError> {
        let acked = img.get(&self.ack, 0) as u16;
        while let Some(head) = self.queue.front_mut() {
            match (head.seq, head.written_at) {
                (Some(seq), _) if seq == acked => {
                    self.queue.pop_front();
                    continue;
                }
                (Some(_), Some(at)) if cycle.wrapping_sub(at) < RETRY_CYCLES => return Ok(()),
                (Some(seq), Some(_)) => {
                    tracing::warn!(seq, what = %head.what, "command not acknowledged; writing it again")
                }
                (Some(_), None) => {}
                (None, _) => {
                    self.last_seq = self.last_seq.checked_add(1).unwrap_or(1);
                    head.seq = Some(self.last_seq);
                }
            }
            for (addr, words) in &head.writes {
                link.write_words(*addr, words).await?;
            }
            let seq = head.seq.unwrap_or_default();
            link.write_words(self.seq.address, &Image::encode(&self.seq, u32::from(seq)))
                .await?;
            head.written_at = Some(cycle);
            return Ok(());
        }
        Ok(())
    }

    /// Writes the next command at once when none is in flight (a new command need not wait
    /// for the next poll).
    pub(super) async fn kick(
        &mut self,
        link: &mut Link<'_>,
        img: &Image,
        cycle: u32,
    ) -> Result<(), RequestError> {
        if self.queue.front().is_some_and(|h| h.seq.is_none()) {
            self.progress(link, img, cycle).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::join_adjacent;

    #[test]
    fn adjacent_writes_become_one_request_and_gaps_stay_apart() {
        let writes = vec![(1, vec![0, 7]), (3, vec![4]), (9, vec![1]), (5, vec![2])];
        assert_eq!(
            join_adjacent(writes),
            vec![(1, vec![0, 7, 4]), (9, vec![1]), (5, vec![2])]
        );
        assert_eq!(join_adjacent(vec![]), vec![]);
    }
}
