//! PHP formatting that shows up in Appwrite's messages (validator descriptions use `number_format`).

/// PHP `number_format($n)` for integers: thousands separated by commas.
pub fn number_format_i(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// PHP `number_format($f)`: rounded half away from zero to an integer, with commas.
pub fn number_format_f(f: f64) -> String {
    let r = f.round();
    let digits = format!("{:.0}", r.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if r < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_number_format() {
        assert_eq!(number_format_i(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(number_format_i(i64::MAX), "9,223,372,036,854,775,807");
        assert_eq!(number_format_i(10), "10");
        assert_eq!(number_format_i(3600), "3,600");
        assert_eq!(number_format_i(-1000), "-1,000");
        assert_eq!(number_format_f(1.1), "1");
        assert_eq!(number_format_f(0.5), "1");
        assert_eq!(number_format_f(-1234.5), "-1,235");
    }
}
