//! Reading and validating a transcription request: the body (capped at OpenAI's 25 MiB), the
//! bearer token, and the multipart form fields with OpenAI's error for each bad one.

use axum::body::Body;
use axum::http::HeaderMap;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::languages;
use super::openai_format::{Granularities, OpenAiError, ResponseFormat, MAX_CONTENT_BYTES};

/// How far past the limit a too-large body is still read (and dropped) before answering 413, so
/// the client finishes sending and sees the answer rather than a reset connection.
const DRAIN_LIMIT: usize = 4 * MAX_CONTENT_BYTES;

/// The uploaded audio.
#[derive(Debug, Clone)]
pub struct AudioFile {
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// One part of the form as it was sent, kept in order so a forwarder can resend it.
#[derive(Debug, Clone, PartialEq)]
pub enum FormPart {
    Text(String, String),
    /// The `file` part (its content is [`TranscriptionRequest::file`]).
    File,
}

/// A validated `POST /v1/audio/transcriptions`.
#[derive(Debug, Clone)]
pub struct TranscriptionRequest {
    pub file: AudioFile,
    /// The model name asked for (`whisper-1`, …); the local engine runs its own model whatever it is.
    pub model: String,
    pub language: Option<String>,
    pub prompt: Option<String>,
    pub response_format: ResponseFormat,
    pub temperature: f64,
    pub granularities: Granularities,
    /// `stream=true` was asked.
    pub stream: bool,
    pub parts: Vec<FormPart>,
}

/// Reads the whole body, refusing more than OpenAI's limit with its 413.
pub async fn read_body(body: Body) -> Result<Bytes, OpenAiError> {
    let mut stream = body.into_data_stream();
    let mut buf = BytesMut::new();
    let mut read = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| OpenAiError::bad_request(format!("Could not read the request body: {e}"), None, None))?;
        read += chunk.len();
        if read > MAX_CONTENT_BYTES {
            while read <= DRAIN_LIMIT {
                match stream.next().await {
                    Some(Ok(more)) => read += more.len(),
                    _ => break,
                }
            }
            return Err(OpenAiError::too_large(read));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// OpenAI clients always send `Authorization: Bearer KEY`; the emulator accepts any key but, like
/// OpenAI, refuses a request without one, so a function that forgets its key fails here first.
pub fn check_bearer(headers: &HeaderMap) -> Result<(), OpenAiError> {
    let value = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").trim();
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or("");
    if token.is_empty() {
        return Err(OpenAiError::no_api_key());
    }
    Ok(())
}

/// Parses the multipart form of `body` and validates every field.
pub async fn parse(headers: &HeaderMap, body: Bytes) -> Result<TranscriptionRequest, OpenAiError> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        OpenAiError::bad_request(
            format!(
                "Invalid Content-Type header ({}), expected multipart/form-data. (HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')",
                if content_type.is_empty() { "none" } else { content_type }
            ),
            None,
            None,
        )
    })?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut file = None;
    let mut parts = Vec::new();
    let invalid = |e: multer::Error| OpenAiError::bad_request(format!("Invalid multipart/form-data body: {e}"), None, None);
    while let Some(field) = multipart.next_field().await.map_err(invalid)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let filename = field.file_name().unwrap_or("file").to_string();
            let content_type = field.content_type().map(|m| m.to_string());
            let data = field.bytes().await.map_err(invalid)?;
            if file.is_none() {
                file = Some(AudioFile { filename, content_type, data });
                parts.push(FormPart::File);
            }
        } else {
            let text = field.text().await.map_err(invalid)?;
            parts.push(FormPart::Text(name, text));
        }
    }
    validate(file, parts)
}

fn validate(file: Option<AudioFile>, parts: Vec<FormPart>) -> Result<TranscriptionRequest, OpenAiError> {
    let field = |name: &str| {
        parts.iter().find_map(|p| match p {
            FormPart::Text(n, v) if n == name => Some(v.trim().to_string()),
            _ => None,
        })
    };
    let file = file.ok_or_else(|| OpenAiError::missing("file"))?;
    if file.data.is_empty() {
        return Err(OpenAiError::bad_request(
            "The audio file is empty. Minimum audio length is 0.1 seconds.",
            Some("file"),
            Some("audio_too_short"),
        ));
    }
    let model = field("model").filter(|m| !m.is_empty()).ok_or_else(|| OpenAiError::missing("model"))?;

    let language = field("language").filter(|l| !l.is_empty());
    if let Some(l) = &language {
        if !languages::is_supported(l) {
            return Err(OpenAiError::bad_request(
                format!("Invalid language '{l}'. Language parameter must be specified in ISO-639-1 format."),
                Some("language"),
                Some("invalid_language_format"),
            ));
        }
    }

    let response_format = match field("response_format").filter(|f| !f.is_empty()) {
        None => ResponseFormat::Json,
        Some(f) => ResponseFormat::parse(&f).ok_or_else(|| {
            OpenAiError::invalid_value(
                "response_format",
                format!("Invalid value: '{f}'. Supported values are: 'json', 'text', 'srt', 'verbose_json', and 'vtt'."),
            )
        })?,
    };

    let temperature = match field("temperature").filter(|t| !t.is_empty()) {
        None => 0.0,
        Some(t) => parse_temperature(&t)?,
    };

    let mut granularities = Granularities { segment: false, word: false };
    let mut any_granularity = false;
    for p in &parts {
        if let FormPart::Text(name, value) = p {
            if name == "timestamp_granularities[]" || name == "timestamp_granularities" {
                any_granularity = true;
                match value.trim() {
                    "segment" => granularities.segment = true,
                    "word" => granularities.word = true,
                    other => {
                        return Err(OpenAiError::invalid_value(
                            "timestamp_granularities",
                            format!("Invalid value: '{other}'. Supported values are: 'word' and 'segment'."),
                        ))
                    }
                }
            }
        }
    }
    if !any_granularity {
        granularities = Granularities::default();
    }

    let stream = field("stream").is_some_and(|s| s.eq_ignore_ascii_case("true"));
    let prompt = field("prompt").filter(|p| !p.is_empty());
    Ok(TranscriptionRequest { file, model, language, prompt, response_format, temperature, granularities, stream, parts })
}

fn parse_temperature(t: &str) -> Result<f64, OpenAiError> {
    let value: f64 = t.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
        OpenAiError::bad_request(
            format!("Invalid type for 'temperature': expected a decimal, but got a string instead ('{t}')."),
            Some("temperature"),
            Some("invalid_type"),
        )
    })?;
    if value < 0.0 {
        return Err(OpenAiError::bad_request(
            format!("Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got {t} instead."),
            Some("temperature"),
            Some("decimal_below_min_value"),
        ));
    }
    if value > 1.0 {
        return Err(OpenAiError::bad_request(
            format!("Invalid 'temperature': decimal above maximum value. Expected a value <= 1, but got {t} instead."),
            Some("temperature"),
            Some("decimal_above_max_value"),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDARY: &str = "XyZ";

    fn form(fields: &[(&str, &str)], file: Option<&[u8]>) -> (HeaderMap, Bytes) {
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        if let Some(data) = file {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let mut headers = HeaderMap::new();
        headers.insert("content-type", format!("multipart/form-data; boundary={BOUNDARY}").parse().unwrap());
        (headers, Bytes::from(body))
    }

    async fn parse_form(fields: &[(&str, &str)], file: Option<&[u8]>) -> Result<TranscriptionRequest, OpenAiError> {
        let (h, b) = form(fields, file);
        parse(&h, b).await
    }

    #[tokio::test]
    async fn a_full_form_parses() {
        let r = parse_form(
            &[
                ("model", "whisper-1"),
                ("language", "en"),
                ("prompt", "Paris"),
                ("response_format", "verbose_json"),
                ("temperature", "0.2"),
                ("timestamp_granularities[]", "word"),
                ("extra", "kept"),
            ],
            Some(b"RIFF...."),
        )
        .await
        .unwrap();
        assert_eq!(r.model, "whisper-1");
        assert_eq!(r.language.as_deref(), Some("en"));
        assert_eq!(r.prompt.as_deref(), Some("Paris"));
        assert_eq!(r.response_format, ResponseFormat::VerboseJson);
        assert_eq!(r.temperature, 0.2);
        assert_eq!(r.granularities, Granularities { segment: false, word: true });
        assert_eq!(r.file.filename, "a.wav");
        assert_eq!(r.file.content_type.as_deref(), Some("audio/wav"));
        assert_eq!(&r.file.data[..], b"RIFF....");
        assert!(r.parts.contains(&FormPart::Text("extra".into(), "kept".into())));
        assert_eq!(r.parts.last(), Some(&FormPart::File));
    }

    #[tokio::test]
    async fn defaults() {
        let r = parse_form(&[("model", "x"), ("language", ""), ("response_format", "")], Some(b"a")).await.unwrap();
        assert_eq!(r.response_format, ResponseFormat::Json);
        assert_eq!((r.language, r.prompt, r.temperature, r.stream), (None, None, 0.0, false));
        assert_eq!(r.granularities, Granularities { segment: true, word: false });
    }

    #[tokio::test]
    async fn each_bad_field_names_itself() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a [u8]>, Option<&'a str>, Option<&'a str>);
        let cases: [Case; 9] = [
            (&[("model", "whisper-1")], None, Some("file"), Some("missing_required_parameter")),
            (&[("model", "whisper-1")], Some(b""), Some("file"), Some("audio_too_short")),
            (&[], Some(b"a"), Some("model"), Some("missing_required_parameter")),
            (&[("model", "whisper-1"), ("response_format", "xml")], Some(b"a"), Some("response_format"), Some("invalid_value")),
            (&[("model", "whisper-1"), ("language", "english")], Some(b"a"), Some("language"), Some("invalid_language_format")),
            (&[("model", "whisper-1"), ("temperature", "warm")], Some(b"a"), Some("temperature"), Some("invalid_type")),
            (&[("model", "whisper-1"), ("temperature", "1.5")], Some(b"a"), Some("temperature"), Some("decimal_above_max_value")),
            (&[("model", "whisper-1"), ("temperature", "-0.1")], Some(b"a"), Some("temperature"), Some("decimal_below_min_value")),
            (&[("model", "whisper-1"), ("timestamp_granularities[]", "char")], Some(b"a"), Some("timestamp_granularities"), Some("invalid_value")),
        ];
        for (fields, file, param, code) in cases {
            let e = parse_form(fields, file).await.unwrap_err();
            assert_eq!((e.status.as_u16(), e.kind, e.param, e.code), (400, "invalid_request_error", param, code), "{fields:?}");
        }
    }

    #[tokio::test]
    async fn not_multipart_is_refused() {
        let mut h = HeaderMap::new();
        h.insert("content-type", "application/json".parse().unwrap());
        let e = parse(&h, Bytes::from_static(b"{}")).await.unwrap_err();
        assert_eq!(e.status.as_u16(), 400);
        assert!(e.message.contains("expected multipart/form-data"), "{}", e.message);
    }

    #[test]
    fn bearer_is_required_but_any_key_passes() {
        let mut h = HeaderMap::new();
        assert_eq!(check_bearer(&h).unwrap_err().status.as_u16(), 401);
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert!(check_bearer(&h).is_err());
        h.insert("authorization", "Bearer ".parse().unwrap());
        assert!(check_bearer(&h).is_err());
        h.insert("authorization", "bearer sk-anything".parse().unwrap());
        assert!(check_bearer(&h).is_ok());
    }

    #[tokio::test]
    async fn bodies_past_the_limit_are_413_with_the_bytes_read() {
        let big = vec![0u8; MAX_CONTENT_BYTES + 10];
        let e = read_body(Body::from(big)).await.unwrap_err();
        assert_eq!(e.status.as_u16(), 413);
        assert!(e.message.ends_with(&format!("({} bytes read)", MAX_CONTENT_BYTES + 10)), "{}", e.message);
        assert_eq!(read_body(Body::from(vec![1u8; 10])).await.unwrap().len(), 10);
    }
}
