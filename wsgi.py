"""WSGI entry point: ``flask --app wsgi run`` or ``python wsgi.py`` (Socket.IO-aware server)."""

from panel import create_app
from panel.extensions import socketio

app = create_app()

if __name__ == "__main__":
    port = app.config["PORT"]
    host = app.config.get("HOST", "127.0.0.1")
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
