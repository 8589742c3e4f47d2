"""WSGI entry point: ``flask --app wsgi run`` or ``python wsgi.py`` (Socket.IO-aware server)."""

from panel import create_app, gc_tuning
from panel.extensions import socketio

app = create_app()
gc_tuning.apply(app)  # freeze start-up objects, rarer collections (GC_FREEZE, GC_THRESHOLD; panel/gc_tuning.py)

if __name__ == "__main__":
    port = app.config["PORT"]
    host = app.config.get("HOST", "127.0.0.1")
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True)
