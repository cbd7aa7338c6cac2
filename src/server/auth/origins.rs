//! The other origins Herald's bell may live on (`HERALD_ALLOWED_ORIGINS`):
//! pages there may call the user routes with a user token, and get CORS
//! answers for them (`guard::cors`). Exact matches of serialized origins
//! (`https://app.example.com`, `http://127.0.0.1:5173`): no wildcards, no
//! suffix rules, nothing a look-alike host could satisfy.

use http::HeaderValue;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<HeaderValue>);

impl AllowedOrigins {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn list(&self) -> &[HeaderValue] {
        &self.0
    }

    /// Whether `origin` (an `Origin` header's value) is one of them, byte for byte.
    pub fn allows(&self, origin: &HeaderValue) -> bool {
        self.0.iter().any(|allowed| allowed == origin)
    }
}

impl std::str::FromStr for AllowedOrigins {
    type Err = String;

    /// Comma-separated origins, each `http(s)://host[:port]`, as a browser
    /// serializes them (lower case, no path, no trailing slash).
    fn from_str(raw: &str) -> Result<AllowedOrigins, String> {
        let mut origins = Vec::new();
        for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .ok_or_else(|| format!("{origin:?} is not an http:// or https:// origin"))?;
            let well_formed = !authority.is_empty()
                && authority
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.:[]".contains(&b));
            if !well_formed {
                return Err(format!(
                    "{origin:?} is not an origin as browsers send it (scheme://host[:port], lower case, no path)"
                ));
            }
            origins.push(HeaderValue::from_str(origin).map_err(|e| e.to_string())?);
        }
        Ok(AllowedOrigins(origins))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_origins_and_refuses_the_rest() {
        let allowed: AllowedOrigins = " http://127.0.0.1:5173, https://app.example.com "
            .parse()
            .unwrap();
        assert!(allowed.allows(&HeaderValue::from_static("http://127.0.0.1:5173")));
        assert!(allowed.allows(&HeaderValue::from_static("https://app.example.com")));
        for other in [
            "http://app.example.com",
            "https://app.example.com.evil.test",
            "https://evil.test",
            "null",
        ] {
            assert!(!allowed.allows(&HeaderValue::from_static(other)), "{other}");
        }
        assert!("".parse::<AllowedOrigins>().unwrap().is_empty());
        for bad in [
            "*",
            "app.example.com",
            "https://app.example.com/",
            "https://App.example.com",
            "ftp://x",
        ] {
            assert!(bad.parse::<AllowedOrigins>().is_err(), "{bad}");
        }
    }
}
