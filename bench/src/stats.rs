//! Percentiles of a sample of durations (seconds).

pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
}

impl Summary {
    pub fn of(mut v: Vec<f64>) -> Summary {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
        Summary { p50: at(0.50), p90: at(0.90), p99: at(0.99) }
    }
}

/// Seconds as milliseconds with a sensible precision.
pub fn fmt_ms(secs: f64) -> String {
    let ms = secs * 1000.0;
    if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 10.0 {
        format!("{ms:.2}")
    } else {
        format!("{ms:.1}")
    }
}
