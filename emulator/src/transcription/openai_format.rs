//! OpenAI's wire shapes for `/v1/audio/transcriptions`: the five response formats (json, text,
//! verbose_json, srt, vtt) and the `{"error": {message, type, param, code}}` error body.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::languages;

/// The largest request OpenAI reads (25 MiB), body included, as its 413 message counts it.
pub const MAX_CONTENT_BYTES: usize = 26_214_400;

/// The `response_format` values OpenAI accepts, in the order its error message lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    Json,
    Text,
    Srt,
    VerboseJson,
    Vtt,
}

impl ResponseFormat {
    pub const ALL: [(&'static str, ResponseFormat); 5] = [
        ("json", ResponseFormat::Json),
        ("text", ResponseFormat::Text),
        ("srt", ResponseFormat::Srt),
        ("verbose_json", ResponseFormat::VerboseJson),
        ("vtt", ResponseFormat::Vtt),
    ];

    /// The format named `s`, if OpenAI knows it.
    pub fn parse(s: &str) -> Option<ResponseFormat> {
        Self::ALL.iter().find(|(name, _)| *name == s).map(|(_, f)| *f)
    }
}

/// One decoded stretch of speech, with the fields (and field order) of OpenAI's verbose_json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    pub id: u32,
    pub seek: u64,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub tokens: Vec<i64>,
    pub temperature: f64,
    pub avg_logprob: f64,
    pub compression_ratio: f64,
    pub no_speech_prob: f64,
}

/// One word with its timing (`timestamp_granularities[]=word`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Word {
    pub word: String,
    pub start: f64,
    pub end: f64,
}

/// What an engine heard.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Transcript {
    /// ISO-639-1 code of the language decoded.
    pub language: String,
    /// Seconds of audio.
    pub duration: f64,
    pub segments: Vec<Segment>,
    /// Present when word timestamps were asked for.
    #[serde(default)]
    pub words: Option<Vec<Word>>,
}

impl Transcript {
    /// The whole text, as OpenAI's `text` field gives it (segments joined, outer spaces trimmed).
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect::<String>().trim().to_string()
    }
}

/// Which parts of verbose_json to include (`timestamp_granularities[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Granularities {
    pub segment: bool,
    pub word: bool,
}

impl Default for Granularities {
    fn default() -> Self {
        Granularities { segment: true, word: false }
    }
}

/// The success response in `format`.
pub fn render(format: ResponseFormat, transcript: &Transcript, granularities: Granularities) -> Response {
    match format {
        ResponseFormat::Json => json_response(StatusCode::OK, &json!({ "text": transcript.text() })),
        ResponseFormat::VerboseJson => json_response(StatusCode::OK, &verbose_json(transcript, granularities)),
        ResponseFormat::Text => text_response(format!("{}\n", transcript.text())),
        ResponseFormat::Srt => text_response(srt(&transcript.segments)),
        ResponseFormat::Vtt => text_response(vtt(&transcript.segments)),
    }
}

fn verbose_json(t: &Transcript, g: Granularities) -> Value {
    let mut body = json!({
        "task": "transcribe",
        "language": languages::name_of(&t.language),
        "duration": t.duration,
        "text": t.text(),
    });
    // OpenAI leaves out what was not asked for: words only on request, segments unless only words were.
    if g.segment || !g.word {
        body["segments"] = json!(t.segments);
    }
    if g.word {
        body["words"] = json!(t.words.clone().unwrap_or_default());
    }
    body
}

/// SubRip subtitles, numbered from 1, as Whisper's own writer formats them.
pub fn srt(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, s) in segments.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(s.start, ','),
            timestamp(s.end, ','),
            cue_text(&s.text)
        ));
    }
    out
}

/// WebVTT subtitles.
pub fn vtt(segments: &[Segment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for s in segments {
        out.push_str(&format!("{} --> {}\n{}\n\n", timestamp(s.start, '.'), timestamp(s.end, '.'), cue_text(&s.text)));
    }
    out
}

/// A cue's text must not contain the cue separator itself.
fn cue_text(text: &str) -> String {
    text.trim().replace("-->", "->")
}

/// `HH:MM:SS<sep>mmm`.
pub fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!("{:02}:{:02}:{:02}{sep}{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    res
}

fn text_response(body: String) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut().insert("content-type", HeaderValue::from_static("text/plain; charset=utf-8"));
    res
}

/// An error in OpenAI's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiError {
    pub status: StatusCode,
    pub message: String,
    /// `invalid_request_error` for the caller's mistakes, `server_error` for the engine's.
    pub kind: &'static str,
    pub param: Option<&'static str>,
    pub code: Option<&'static str>,
}

impl OpenAiError {
    /// A 400 `invalid_request_error`.
    pub fn bad_request(message: impl Into<String>, param: Option<&'static str>, code: Option<&'static str>) -> Self {
        OpenAiError { status: StatusCode::BAD_REQUEST, message: message.into(), kind: "invalid_request_error", param, code }
    }

    /// A required form field is absent.
    pub fn missing(param: &'static str) -> Self {
        Self::bad_request(format!("Missing required parameter: '{param}'."), Some(param), Some("missing_required_parameter"))
    }

    /// A field has a value outside its allowed set.
    pub fn invalid_value(param: &'static str, message: impl Into<String>) -> Self {
        Self::bad_request(message, Some(param), Some("invalid_value"))
    }

    /// 401 as OpenAI answers a request without `Authorization: Bearer …`.
    pub fn no_api_key() -> Self {
        OpenAiError {
            status: StatusCode::UNAUTHORIZED,
            message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). The emulator accepts any key.".into(),
            kind: "invalid_request_error",
            param: None,
            code: None,
        }
    }

    /// 413 with OpenAI's message, counting the bytes actually read.
    pub fn too_large(read: usize) -> Self {
        OpenAiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("Maximum content size limit ({MAX_CONTENT_BYTES}) exceeded ({read} bytes read)"),
            kind: "invalid_request_error",
            param: None,
            code: Some("request_too_large"),
        }
    }

    /// A `server_error` with `status` (500 for a failure, 503 for an engine that cannot run).
    pub fn server(status: StatusCode, message: impl Into<String>, code: &'static str) -> Self {
        OpenAiError { status, message: message.into(), kind: "server_error", param: None, code: Some(code) }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }
}

impl std::fmt::Display for OpenAiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.kind, self.message)
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(id: u32, start: f64, end: f64, text: &str) -> Segment {
        Segment {
            id,
            seek: 0,
            start,
            end,
            text: text.into(),
            tokens: vec![50363, 383],
            temperature: 0.0,
            avg_logprob: -0.3,
            compression_ratio: 1.1,
            no_speech_prob: 0.01,
        }
    }

    fn transcript() -> Transcript {
        Transcript {
            language: "en".into(),
            duration: 7.25,
            segments: vec![seg(0, 0.0, 3.5, " Hello there."), seg(1, 3.5, 3723.0456, " A --> B")],
            words: Some(vec![Word { word: "Hello".into(), start: 0.0, end: 0.4 }]),
        }
    }

    async fn body_of(res: Response) -> (StatusCode, String, String) {
        let status = res.status();
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, ct, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn timestamps_use_hours_and_milliseconds() {
        assert_eq!(timestamp(0.0, ','), "00:00:00,000");
        assert_eq!(timestamp(3723.0456, '.'), "01:02:03.046");
        assert_eq!(timestamp(59.9999, ','), "00:01:00,000");
        assert_eq!(timestamp(-1.0, ','), "00:00:00,000");
    }

    #[test]
    fn srt_and_vtt_cues() {
        let t = transcript();
        assert_eq!(
            srt(&t.segments),
            "1\n00:00:00,000 --> 00:00:03,500\nHello there.\n\n2\n00:00:03,500 --> 01:02:03,046\nA -> B\n\n"
        );
        assert_eq!(
            vtt(&t.segments),
            "WEBVTT\n\n00:00:00.000 --> 00:00:03.500\nHello there.\n\n00:00:03.500 --> 01:02:03.046\nA -> B\n\n"
        );
    }

    #[tokio::test]
    async fn json_text_and_verbose_json() {
        let t = transcript();
        let (s, ct, body) = body_of(render(ResponseFormat::Json, &t, Granularities::default())).await;
        assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/json"));
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"text": "Hello there. A --> B"}));

        let (_, ct, body) = body_of(render(ResponseFormat::Text, &t, Granularities::default())).await;
        assert_eq!((ct.as_str(), body.as_str()), ("text/plain; charset=utf-8", "Hello there. A --> B\n"));

        let (_, _, body) = body_of(render(ResponseFormat::VerboseJson, &t, Granularities::default())).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["task"], "transcribe");
        assert_eq!(v["language"], "english");
        assert_eq!(v["duration"], 7.25);
        assert_eq!(v["segments"][1]["text"], " A --> B");
        let keys: Vec<&String> = v["segments"][0].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio", "no_speech_prob"]
        );
        assert!(v.get("words").is_none());

        let words_only = Granularities { segment: false, word: true };
        let (_, _, body) = body_of(render(ResponseFormat::VerboseJson, &t, words_only)).await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert!(v.get("segments").is_none());
        assert_eq!(v["words"][0], json!({"word": "Hello", "start": 0.0, "end": 0.4}));
    }

    #[test]
    fn error_bodies_have_openai_shape() {
        assert_eq!(
            OpenAiError::missing("file").body(),
            json!({"error": {"message": "Missing required parameter: 'file'.", "type": "invalid_request_error", "param": "file", "code": "missing_required_parameter"}})
        );
        let e = OpenAiError::too_large(26_300_000);
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.body()["error"]["message"], "Maximum content size limit (26214400) exceeded (26300000 bytes read)");
        assert_eq!(OpenAiError::no_api_key().status, StatusCode::UNAUTHORIZED);
        assert_eq!(ResponseFormat::parse("verbose_json"), Some(ResponseFormat::VerboseJson));
        assert_eq!(ResponseFormat::parse("JSON"), None);
    }
}
