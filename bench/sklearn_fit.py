"""Times scikit-learn's fit on the data bench/train.ts wrote (raw float64 files); prints JSON."""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression

directory, rows, features = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(f"{directory}/x.f64").reshape(rows, features)
regression = np.fromfile(f"{directory}/regression.f64")
classes = np.fromfile(f"{directory}/classes.f64")


def timed(model, y):
    started = time.perf_counter()
    model.fit(x, y)
    return time.perf_counter() - started, model.score(x, y)


linear_seconds, r2 = timed(LinearRegression(), regression)
logistic_seconds, accuracy = timed(LogisticRegression(), classes)
print(json.dumps({
    "linear": {"seconds": linear_seconds, "score": r2},
    "logistic": {"seconds": logistic_seconds, "score": accuracy},
}))
