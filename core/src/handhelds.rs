//! Handheld messages: every scan verified against the direction, picks and shorts confirmed,
//! breaks, log-outs and presence. A message answers once; a re-delivery gets the same answer.

use floorctl_protocol::order::OrderLine;
use floorctl_protocol::scanner::{
    answer_version, ErrorReply, Expect, Refusal, ScanWhat, Up, UpBody,
};

use super::{
    Command, Core, Millis, Note, OrderStatus, Reaction, Reply, ScannerState, ToteStatus, Work,
    SEEN_IDS_PER_SCANNER,
};
use crate::AlarmText;

/// Earlier sessions remembered per handheld, so a login of one delivered again is stale.
const PAST_SESSIONS: usize = 8;

impl Core {
    pub(super) fn scanner_message(
        &mut self,
        scanner: &str,
        msg: &Up,
        now: Millis,
        out: &mut Reaction,
    ) {
        // Presence is a state, not an action: the broker may repeat a last will.
        if let UpBody::Presence { online } = msg.body {
            return self.presence(scanner, online, now, out);
        }
        let state = self.scanners.entry(scanner.to_string()).or_default();
        state.last_heard = Some(now);
        state.version = answer_version(Some(msg.v));
        if let Some((_, answer)) = state.answers.iter().find(|(id, _)| *id == msg.id) {
            // The same refusal; for a direction, the current one: it is the one answered unless
            // the work has moved on since, and an older one would take the handheld back.
            for reply in answer {
                match reply {
                    Reply::Directed => {
                        if let Some(direction) = state.direction.clone() {
                            out.push(Command::Direct {
                                scanner: scanner.to_string(),
                                direction,
                            });
                        }
                    }
                    Reply::Refused(reply) => out.push(Command::Reject {
                        scanner: scanner.to_string(),
                        reply: reply.clone(),
                    }),
                }
            }
            return;
        }
        let start = out.commands.len();
        let mut stale = None;
        if let UpBody::Login {
            session: Some(session),
            ..
        } = &msg.body
        {
            if state.past_sessions.contains(session) {
                stale = Some(Refusal::StaleSession {
                    session: session.clone(),
                });
            } else if state.session.as_ref() != Some(session) {
                // A session not seen before (the app started afresh: reinstalled, another
                // device) counts its messages from its own start.
                if let Some(old) = state.session.replace(session.clone()) {
                    if state.past_sessions.len() == PAST_SESSIONS {
                        state.past_sessions.pop_front();
                    }
                    state.past_sessions.push_back(old);
                }
                state.last_seq = None;
            }
        }
        let stale = stale.or(match (msg.seq, state.last_seq) {
            (Some(seq), Some(last)) if seq <= last => Some(Refusal::Stale { seq, last }),
            _ => None,
        });
        let result = match stale {
            Some(reason) => Err(reason),
            None => {
                if msg.seq.is_some() {
                    state.last_seq = msg.seq;
                }
                self.apply(scanner, &msg.body, out)
            }
        };
        if let Err(refusal) = result {
            self.summary.refused += 1;
            out.push(Command::Reject {
                scanner: scanner.to_string(),
                reply: ErrorReply::new(msg.v, Some(msg.id.clone()), refusal),
            });
        }
        let mut answer: Vec<Reply> = Vec::new();
        for c in &out.commands[start..] {
            match c {
                Command::Direct { scanner: s, .. }
                    if s == scanner && !answer.contains(&Reply::Directed) =>
                {
                    answer.push(Reply::Directed);
                }
                Command::Reject { scanner: s, reply } if s == scanner => {
                    answer.push(Reply::Refused(reply.clone()));
                }
                _ => {}
            }
        }
        let Some(state) = self.scanners.get_mut(scanner) else {
            return;
        };
        if state.answers.len() == SEEN_IDS_PER_SCANNER {
            state.answers.pop_front();
        }
        state.answers.push_back((msg.id.clone(), answer));
    }

    /// The state of the handheld a message came from (made when its first message arrived).
    fn handheld(&mut self, scanner: &str) -> Result<&mut ScannerState, Refusal> {
        self.scanners.get_mut(scanner).ok_or(Refusal::LogInFirst {})
    }

    fn apply(&mut self, scanner: &str, body: &UpBody, out: &mut Reaction) -> Result<(), Refusal> {
        let logged_in = !self.handheld(scanner)?.picker.is_empty();
        match body {
            UpBody::Login { picker, .. } => {
                let state = self.handheld(scanner)?;
                state.picker = picker.clone();
                state.offline_since = None;
                if state.work.is_some() {
                    self.direct(scanner, out);
                } else {
                    self.assign_next(scanner, out);
                }
                Ok(())
            }
            _ if !logged_in => Err(Refusal::LogInFirst {}),
            UpBody::Logout => {
                self.handheld(scanner)?.picker.clear();
                self.release_work(scanner, out);
                self.direct(scanner, out);
                Ok(())
            }
            UpBody::Break => {
                self.handheld(scanner)?.paused = true;
                self.direct(scanner, out);
                Ok(())
            }
            UpBody::Resume => {
                let state = self.handheld(scanner)?;
                state.paused = false;
                if state.work.is_none() {
                    self.assign_next(scanner, out);
                } else {
                    self.direct(scanner, out);
                }
                Ok(())
            }
            _ if self.handheld(scanner)?.paused => Err(Refusal::OnBreak {}),
            UpBody::Scan { what, code } => self.scan(scanner, *what, code, out),
            UpBody::Pick {
                order,
                line,
                qty,
                tote,
            } => {
                let directed = self.directed_line(scanner, order, *line, *tote, false)?;
                let (confirmed, directed_qty) = (*qty, directed.qty);
                if confirmed > directed_qty {
                    return Err(Refusal::OverPick {
                        confirmed,
                        directed: directed_qty,
                    });
                }
                if confirmed < directed_qty {
                    return Err(Refusal::UnderPick {
                        confirmed,
                        directed: directed_qty,
                    });
                }
                self.line_done(scanner, *qty, out);
                Ok(())
            }
            UpBody::Short {
                order,
                line,
                found,
                tote,
            } => {
                let directed = self.directed_line(scanner, order, *line, *tote, true)?;
                if *found >= directed.qty {
                    return Err(Refusal::NotShort {
                        found: *found,
                        directed: directed.qty,
                    });
                }
                self.short(scanner, order, &directed, *found, out);
                self.line_done(scanner, *found, out);
                Ok(())
            }
            UpBody::Accept => {
                let state = self.handheld(scanner)?;
                if state.work != Some(Work::Offered) {
                    return Err(Refusal::NoOffer {});
                }
                self.advance(scanner);
                self.direct(scanner, out);
                Ok(())
            }
            UpBody::Replenished { task, qty } => self.replenished(scanner, *task, *qty, out),
            UpBody::ToteClosed { tote } => self.tote_closed(scanner, *tote, out),
            UpBody::ToteFull { tote } => self.tote_full(scanner, *tote, out),
            UpBody::Presence { .. } => Ok(()),
        }
    }

    /// The line a pick or short confirms, once it is the one directed and its scans are done
    /// (a short needs only the location scanned: the SKU may not be there at all).
    fn directed_line(
        &self,
        scanner: &str,
        order: &str,
        line: u32,
        tote: u32,
        short: bool,
    ) -> Result<OrderLine, Refusal> {
        let Some(Work::Picking {
            order: o,
            tote: t,
            line: l,
            expect,
        }) = self.scanners.get(scanner).and_then(|s| s.work.as_ref())
        else {
            return Err(Refusal::NoPick {});
        };
        if o != order || *l != line || *t != tote {
            return Err(Refusal::NotDirected {
                order: o.clone(),
                line: *l,
                tote: *t,
            });
        }
        let Some(directed) = self
            .orders
            .get(o.as_str())
            .and_then(|x| x.order.lines.get(*l as usize))
            .cloned()
        else {
            return Err(Refusal::UnknownLine {
                order: o.clone(),
                line: *l,
            });
        };
        match expect {
            Expect::Location => Err(Refusal::ScanLocationFirst {
                location: directed.location,
            }),
            Expect::Sku if !short => Err(Refusal::ScanSkuFirst { sku: directed.sku }),
            _ => Ok(directed),
        }
    }

    fn scan(
        &mut self,
        scanner: &str,
        what: ScanWhat,
        code: &str,
        out: &mut Reaction,
    ) -> Result<(), Refusal> {
        let Some(Work::Picking {
            order,
            tote,
            line,
            expect,
        }) = self.scanners.get(scanner).and_then(|s| s.work.clone())
        else {
            return Err(Refusal::NoPick {});
        };
        let Some(l) = self
            .orders
            .get(&order)
            .and_then(|o| o.order.lines.get(line as usize))
        else {
            return Err(Refusal::UnknownLine { order, line });
        };
        let next = match what {
            ScanWhat::Tote if code == tote.to_string() => expect,
            ScanWhat::Tote => {
                return Err(Refusal::WrongTote {
                    expected: tote,
                    got: code.to_string(),
                })
            }
            ScanWhat::Location if code == l.location => expect.max(Expect::Sku),
            ScanWhat::Location => {
                return Err(Refusal::WrongLocation {
                    expected: l.location.clone(),
                    got: code.to_string(),
                })
            }
            ScanWhat::Sku if expect == Expect::Location => {
                return Err(Refusal::ScanLocationFirst {
                    location: l.location.clone(),
                })
            }
            ScanWhat::Sku if code == l.sku => Expect::Quantity,
            ScanWhat::Sku => {
                return Err(Refusal::WrongSku {
                    expected: l.sku.clone(),
                    got: code.to_string(),
                    location: l.location.clone(),
                })
            }
        };
        if let Some(Work::Picking { expect, .. }) = &mut self.handheld(scanner)?.work {
            *expect = next;
        }
        self.direct(scanner, out);
        Ok(())
    }

    /// Books a short: the location held only `found`; the rest comes from another location
    /// holding the SKU, as a new line picked next, or is back-ordered.
    fn short(
        &mut self,
        scanner: &str,
        order: &str,
        directed: &OrderLine,
        found: u32,
        out: &mut Reaction,
    ) {
        self.summary.shorts += 1;
        let booked = self
            .stock
            .get(&directed.sku)
            .and_then(|s| s.get(&directed.location))
            .copied();
        if let Some(book) = booked {
            let text = AlarmText::FoundShort {
                location: directed.location.clone(),
                sku: directed.sku.clone(),
                found,
                book,
            };
            self.alarm(&directed.location, text, out);
        }
        // Everything there was picked: the location is empty now (line_done takes `found` off).
        let places = self.stock.entry(directed.sku.clone()).or_default();
        places.insert(directed.location.clone(), found);
        let mut missing = directed.qty - found;
        let other = places
            .iter()
            .filter(|(loc, qty)| **loc != directed.location && **qty > 0)
            .max_by_key(|(loc, qty)| (**qty, std::cmp::Reverse((*loc).clone())))
            .map(|(loc, qty)| (loc.clone(), *qty));
        let Some(o) = self.orders.get_mut(order) else {
            return;
        };
        if let Some((location, held)) = other {
            let qty = missing.min(held);
            missing -= qty;
            o.order.lines.push(OrderLine {
                sku: directed.sku.clone(),
                qty,
                location: location.clone(),
            });
            o.picked.push(None);
            let added = (o.order.lines.len() - 1) as u32;
            self.add_open_picks(&location, i64::from(qty));
            // The rest is picked next, before the trip goes on.
            if let Some(state) = self.scanners.get_mut(scanner) {
                state.trip.stops.push_front((order.to_string(), added));
            }
        }
        if let Some(o) = self.orders.get_mut(order).filter(|_| missing > 0) {
            o.backordered += missing;
            self.summary.backordered += missing;
            out.note(Note::BackOrdered {
                order: order.to_string(),
                sku: directed.sku.clone(),
                missing,
                scanner: scanner.to_string(),
            });
        }
    }

    /// The directed line is done with `qty` in the tote: on to the next line, or close the tote.
    fn line_done(&mut self, scanner: &str, qty: u32, out: &mut Reaction) {
        self.line_confirmed();
        let Some(Work::Picking {
            order, line, tote, ..
        }) = self.scanners.get(scanner).and_then(|s| s.work.clone())
        else {
            return;
        };
        let Some(o) = self.orders.get_mut(&order) else {
            return;
        };
        let (Some(picked), Some(l)) = (
            o.picked.get_mut(line as usize),
            o.order.lines.get(line as usize).cloned(),
        ) else {
            return;
        };
        *picked = Some(qty);
        out.published.extend(super::published::line_picked(
            &order, line, &l.sku, l.qty, qty, tote, scanner,
        ));
        self.summary.lines_picked += 1;
        if self.faces.contains_key(&l.location) {
            self.summary.lines_forward += 1;
            let held = self
                .stock
                .get(&l.sku)
                .and_then(|s| s.get(&l.location))
                .copied()
                .unwrap_or(0);
            if held < qty {
                self.summary.empty_face_picks += 1;
            }
        }
        if let Some(held) = self
            .stock
            .get_mut(&l.sku)
            .and_then(|s| s.get_mut(&l.location))
        {
            *held = held.saturating_sub(qty);
        }
        self.add_open_picks(&l.location, -i64::from(l.qty));
        // A short found the face short: refill it before anything else.
        self.check_face(&l.location, qty < l.qty, out);
        self.advance(scanner);
        self.direct(scanner, out);
    }

    fn tote_closed(&mut self, scanner: &str, tote: u32, out: &mut Reaction) -> Result<(), Refusal> {
        let state = self.handheld(scanner)?;
        let Some(Work::Closing { order, tote: t }) = &state.work else {
            return Err(Refusal::NoToteToClose {});
        };
        if *t != tote {
            return Err(Refusal::WrongTote {
                expected: *t,
                got: tote.to_string(),
            });
        }
        let order = order.clone();
        state.trip.closed += 1;
        self.advance(scanner);
        self.count_wip(&order, false);
        self.set_order_status(&order, OrderStatus::Picked);
        if let Some(t) = self.totes.get_mut(&tote) {
            t.status = ToteStatus::Closed;
        }
        self.record_order(&order, out);
        self.record_tote(tote, out);
        self.direct(scanner, out);
        if self.layout.release.wip_per_zone > 0 {
            self.wake_idle(out);
        }
        Ok(())
    }

    /// The tote being picked into is full: it is closed as it is, and the order goes on in a
    /// new tote; both go to the conveyor with the rest of the cart.
    fn tote_full(&mut self, scanner: &str, tote: u32, out: &mut Reaction) -> Result<(), Refusal> {
        let Some(Work::Picking { order, tote: t, .. }) = self.handheld(scanner)?.work.clone()
        else {
            return Err(Refusal::NoToteOpen {});
        };
        if t != tote {
            return Err(Refusal::WrongTote {
                expected: t,
                got: tote.to_string(),
            });
        }
        let fresh = self.new_tote(&order, out);
        if let Some(full) = self.totes.get_mut(&tote) {
            full.status = ToteStatus::Closed;
        }
        if let Some(o) = self.orders.get_mut(&order) {
            o.full_totes.push(tote);
            o.tote = Some(fresh);
        }
        let state = self.handheld(scanner)?;
        state.trip.full.push(tote);
        for (o, t) in &mut state.trip.cart {
            if *o == order {
                *t = fresh;
            }
        }
        if let Some(Work::Picking { tote: t, .. }) = &mut state.work {
            *t = fresh;
        }
        self.record_tote(tote, out);
        self.record_tote(fresh, out);
        self.record_order(&order, out);
        self.direct(scanner, out);
        Ok(())
    }
}
