//! Streams are deflated beside the layout: each finished page's content,
//! and each packed object stream, is handed to the rayon pool while the
//! next page is laid out, then written into the file in the order it was
//! handed over — so the bytes are the same whichever finishes first.
//! Deflating is most of a large PDF's work; on two cores it no longer
//! waits for the layout, nor the layout for it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use pdf_writer::Ref;

use super::font::miniz_compress;
use super::xref::Sink;

/// Streams handed over and not yet written, at most.
const AHEAD: usize = 8;

/// What a stream is.
pub(super) enum Kind {
    /// A page's content.
    Content,
    /// An object stream of `count` objects, the first at byte `first`.
    Objects { count: i32, first: i32 },
}

enum State {
    Raw(Vec<u8>),
    Working,
    Done(Vec<u8>),
}

/// One stream's deflating: done by a pool thread, or by the writer itself
/// when it needs the result before any thread has started it (so waiting
/// never depends on a busy pool).
struct Job {
    state: Mutex<State>,
    done: Condvar,
}

impl Job {
    /// Deflates the data unless someone already has or is.
    fn run(&self) {
        let raw = {
            let mut state = self.state.lock().expect("no panics while deflating");
            match std::mem::replace(&mut *state, State::Working) {
                State::Raw(raw) => raw,
                other => {
                    *state = other;
                    return;
                }
            }
        };
        let out = miniz_compress(&raw);
        *self.state.lock().expect("no panics while deflating") = State::Done(out);
        self.done.notify_all();
    }

    fn ready(&self) -> bool {
        matches!(
            *self.state.lock().expect("no panics while deflating"),
            State::Done(_)
        )
    }

    /// The deflated data: deflated here if no thread has started.
    fn take(&self) -> Vec<u8> {
        self.run();
        let mut state = self.state.lock().expect("no panics while deflating");
        loop {
            match std::mem::replace(&mut *state, State::Working) {
                State::Done(out) => return out,
                other => {
                    *state = other;
                    state = self.done.wait(state).expect("no panics while deflating");
                }
            }
        }
    }
}

/// The streams handed over, in order.
#[derive(Default)]
pub(super) struct Deflater {
    queue: VecDeque<(Ref, Kind, Arc<Job>)>,
}

impl Deflater {
    /// Hands over stream `id`'s data; writes what is ready before it.
    pub fn submit(&mut self, sink: &mut Sink, id: Ref, kind: Kind, raw: Vec<u8>) {
        let job = Arc::new(Job {
            state: Mutex::new(State::Raw(raw)),
            done: Condvar::new(),
        });
        let worker = Arc::clone(&job);
        rayon::spawn(move || worker.run());
        self.queue.push_back((id, kind, job));
        self.write(sink, false);
    }

    /// Writes the streams at the front of the queue that are deflated (and
    /// the oldest when too many wait); with `all`, every one.
    pub fn write(&mut self, sink: &mut Sink, all: bool) {
        while let Some((_, _, job)) = self.queue.front() {
            if !(all || self.queue.len() > AHEAD || job.ready()) {
                break;
            }
            let (id, kind, job) = self.queue.pop_front().expect("a front");
            let data = job.take();
            let entries = match kind {
                Kind::Content => String::new(),
                Kind::Objects { count, first } => format!("/Type/ObjStm/N {count}/First {first}"),
            };
            sink.stream(id, &entries, &data);
        }
    }
}
