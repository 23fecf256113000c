//! A throwaway in-memory emulator served on a loopback port inside this process, so replays go
//! through the same REST client as a real server.

use std::thread::JoinHandle;

use crate::appwrite::Connection;

/// A running in-process emulator; dropped, it shuts down.
pub struct Host {
    endpoint: String,
    key: String,
    state: emulator::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Host {
    /// Starts an emulator with everything in memory on 127.0.0.1 and a free port.
    pub fn start() -> Result<Host, String> {
        let key = format!("standard_{}", hex::encode(rand::random::<[u8; 32]>()));
        let config = emulator::Config { data_dir: None, api_keys: vec![key.clone()], ..Default::default() };
        let state = emulator::AppState::new(config).map_err(|e| format!("cannot start the in-memory emulator: {}", e.message))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let endpoint = format!("http://{}/v1", listener.local_addr().map_err(|e| e.to_string())?);
        state.set_endpoint(endpoint.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().map_err(|e| e.to_string())?;
        let thread = std::thread::Builder::new()
            .name("qw-check-emulator".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                    let _ = emulator::serve(listener, served, async move {
                        let _ = rx.await;
                    })
                    .await;
                });
            })
            .map_err(|e| e.to_string())?;
        Ok(Host { endpoint, key, state, shutdown: Some(tx), thread: Some(thread) })
    }

    /// A fresh project on this emulator and how to reach it.
    pub fn project(&self, id: &str) -> Result<Connection, String> {
        self.state.create_project(id).map_err(|e| format!("cannot create project {id}: {}", e.message))?;
        Ok(Connection { endpoint: self.endpoint.clone(), project: id.to_string(), api_key: self.key.clone() })
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
