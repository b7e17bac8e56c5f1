//! The counters and latency histograms the server keeps about itself: every
//! family it knows ([`FAMILIES`]) and one registry ([`Metrics`]) that the
//! API, the router and the reconciler record into and the API's `/metrics`
//! reads. Labels are fixed words (dialect, route template, status, kind,
//! state), never a user's or an app's name, so the series stay few and the
//! figures say nothing about any one tenant.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How a family's figures add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric family: its name, kind, what it means and its label names.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

pub const HTTP_REQUEST_SECONDS: &str = "berth_http_request_duration_seconds";
pub const RECONCILE_PASS_SECONDS: &str = "berth_reconcile_pass_duration_seconds";
pub const RECONCILE_LAG_SECONDS: &str = "berth_reconcile_lag_seconds";
pub const RECONCILE_ERRORS: &str = "berth_reconcile_errors_total";
pub const CONVERGE_SECONDS: &str = "berth_converge_duration_seconds";
pub const INSTANCES: &str = "berth_instances";
pub const ROUTER_REQUESTS: &str = "berth_router_requests_total";
pub const ROUTER_UPSTREAM_SECONDS: &str = "berth_router_upstream_duration_seconds";
pub const STORE_READ_SECONDS: &str = "berth_store_read_duration_seconds";

/// Every family the server exposes, in the order it shows them.
pub const FAMILIES: &[Family] = &[
    Family {
        name: HTTP_REQUEST_SECONDS,
        kind: Kind::Histogram,
        help: "API requests by dialect, method, route template and status, and how long each took to answer.",
        labels: &["dialect", "method", "route", "status"],
    },
    Family {
        name: RECONCILE_PASS_SECONDS,
        kind: Kind::Histogram,
        help: "How long each reconcile pass took, by outcome (ok or failed).",
        labels: &["outcome"],
    },
    Family {
        name: RECONCILE_LAG_SECONDS,
        kind: Kind::Histogram,
        help: "From a wake (a desired-state write or an engine event) to the end of the first reconcile pass that started after it.",
        labels: &[],
    },
    Family {
        name: RECONCILE_ERRORS,
        kind: Kind::Counter,
        help: "Reconciler steps that failed, by kind (engine, store, missing_part, name_taken).",
        labels: &["kind"],
    },
    Family {
        name: CONVERGE_SECONDS,
        kind: Kind::Histogram,
        help: "From a write to its app converging (or failing to), for the calls that wait for the engine.",
        labels: &["outcome"],
    },
    Family {
        name: INSTANCES,
        kind: Kind::Gauge,
        help: "Instances by observed state, read from the store at scrape time.",
        labels: &["state"],
    },
    Family {
        name: ROUTER_REQUESTS,
        kind: Kind::Counter,
        help: "Requests the router answered, by status.",
        labels: &["status"],
    },
    Family {
        name: ROUTER_UPSTREAM_SECONDS,
        kind: Kind::Histogram,
        help: "How long instances took to send the headers of their answer to the router.",
        labels: &[],
    },
    Family {
        name: STORE_READ_SECONDS,
        kind: Kind::Histogram,
        help: "How long the reconciler's reads of the whole desired state took, by query.",
        labels: &["query"],
    },
];

/// Upper bounds (seconds) of every histogram's buckets; `+Inf` is implied.
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The figures of one series.
#[derive(Debug, Clone, PartialEq)]
pub enum Figures {
    Counter(u64),
    Gauge(i64),
    /// Observations at or below each bound of [`BUCKETS`] (not cumulative),
    /// the count of all and their sum in seconds.
    Histogram {
        buckets: [u64; BUCKETS.len()],
        count: u64,
        sum: f64,
    },
}

/// One series: its family, its label values in the family's label order,
/// and its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub family: &'static str,
    pub labels: Vec<String>,
    pub figures: Figures,
}

/// The registry every part records into.
#[derive(Debug)]
pub struct Metrics {
    /// Series by a hash of their family and label values. Recording looks a
    /// series up by borrowed labels, so a request allocates nothing once
    /// its series exists; series whose hashes collide share the bucket.
    series: Mutex<HashMap<u64, Vec<Series>>>,
    hasher: RandomState,
    /// Off, nothing is recorded and nothing is shown.
    enabled: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            series: Mutex::default(),
            hasher: RandomState::new(),
            enabled: AtomicBool::new(true),
        }
    }
}

impl Metrics {
    /// Stops recording, for an operator who wants no metrics kept or shown.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Adds one to a counter.
    pub fn count(&self, family: &'static str, labels: &[&str]) {
        self.record(family, labels, Figures::Counter(0), |figures| {
            if let Figures::Counter(n) = figures {
                *n += 1;
            }
        });
    }

    /// Records one duration in a histogram.
    pub fn observe(&self, family: &'static str, labels: &[&str], took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS.iter().position(|bound| seconds <= *bound);
        let empty = Figures::Histogram {
            buckets: [0; BUCKETS.len()],
            count: 0,
            sum: 0.0,
        };
        self.record(family, labels, empty, |figures| {
            if let Figures::Histogram {
                buckets,
                count,
                sum,
            } = figures
            {
                if let Some(i) = bucket {
                    buckets[i] += 1;
                }
                *count += 1;
                *sum += seconds;
            }
        });
    }

    /// Applies `update` to the series of `family` and `labels`, made from
    /// `empty` the first time.
    fn record(
        &self,
        family: &'static str,
        labels: &[&str],
        empty: Figures,
        update: impl FnOnce(&mut Figures),
    ) {
        if !self.enabled() {
            return;
        }
        let mut hasher = self.hasher.build_hasher();
        family.hash(&mut hasher);
        labels.hash(&mut hasher);
        let key = hasher.finish();
        let mut all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = all.entry(key).or_default();
        let same = |series: &Series| {
            series.family == family
                && series
                    .labels
                    .iter()
                    .map(String::as_str)
                    .eq(labels.iter().copied())
        };
        let series = match bucket.iter().position(same) {
            Some(i) => &mut bucket[i],
            None => {
                bucket.push(Series {
                    family,
                    labels: labels.iter().map(|l| l.to_string()).collect(),
                    figures: empty,
                });
                bucket.last_mut().expect("just pushed")
            }
        };
        update(&mut series.figures);
    }

    /// Every series recorded so far, ordered by family and labels.
    pub fn snapshot(&self) -> Vec<Series> {
        let mut out: Vec<Series> = {
            let all = self.series.lock().unwrap_or_else(|e| e.into_inner());
            all.values().flatten().cloned().collect()
        };
        out.sort_by(|a, b| (a.family, &a.labels).cmp(&(b.family, &b.labels)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_each_observation_once_in_its_bucket() {
        let metrics = Metrics::default();
        metrics.observe(RECONCILE_PASS_SECONDS, &["ok"], Duration::from_millis(3));
        metrics.observe(RECONCILE_PASS_SECONDS, &["ok"], Duration::from_secs(60));
        metrics.count(RECONCILE_ERRORS, &["engine"]);
        metrics.count(RECONCILE_ERRORS, &["engine"]);
        let snapshot = metrics.snapshot();
        assert_eq!(snapshot[0].figures, Figures::Counter(2));
        let Figures::Histogram {
            buckets,
            count,
            sum,
        } = &snapshot[1].figures
        else {
            panic!("not a histogram: {snapshot:?}");
        };
        assert_eq!((buckets[2], buckets.iter().sum::<u64>(), *count), (1, 1, 2));
        assert!((sum - 60.003).abs() < 1e-9);
    }

    #[test]
    fn every_family_is_named_for_prometheus() {
        for family in FAMILIES {
            assert!(family.name.starts_with("berth_"), "{}", family.name);
            let suffix_ok = match family.kind {
                Kind::Counter => family.name.ends_with("_total"),
                Kind::Histogram => family.name.ends_with("_seconds"),
                Kind::Gauge => true,
            };
            assert!(suffix_ok, "{}", family.name);
        }
    }
}
