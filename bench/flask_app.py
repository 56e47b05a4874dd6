# The typical Flask + numpy model server that bench:serve compares ModelDock with:
#   gunicorn -w 2 -k gthread --threads 1 -b 127.0.0.1:<port> --chdir bench flask_app:app
# (gthread for keep-alive, which autocannon needs; see bench/serve.ts.)
# The model is BENCH_MODEL from bench/bare-fastify-server.ts; serve.ts checks the answers match.
import numpy as np
from flask import Flask, jsonify, request

app = Flask(__name__)

weights = np.array([0.5, -1.25, 2, 0.75, -0.5, 1.5, -2.25, 0.25, 1, -0.75])
b = 3.0


@app.route('/predict', methods=['POST'])
def predict():
    x = np.array(request.get_json()['instances'], dtype=float)
    return jsonify({'predictions': (x @ weights + b).tolist()})
