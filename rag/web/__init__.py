"""The web app: handlers (plain Python), the HTML they render, the Gradio page and the server."""
