"""Times scikit-learn's fit on the data bench/train.ts wrote (raw float64 files); prints JSON.

Logistic regression is fitted twice. scikit-learn 1.2's lbfgs minimises the *summed* log loss
(plus ||w||^2 / 2C) and stops when max|projected gradient| <= tol or when the objective's relative
decrease falls under scipy's ftol (about 2.2e-9). ModelDock minimises the *mean* log loss and stops
when max|gradient| <= tolerance (1e-4 by default). The like-for-like fit is therefore
LogisticRegression(tol=1e-4 * rows): the same gradient test on the same scale. The default
LogisticRegression() is timed as well, for reference; both report their iteration counts.
"""
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
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "score": model.score(x, y)}
    if hasattr(model, "n_iter_"):
        result["iterations"] = int(np.max(model.n_iter_))
    return result


print(json.dumps({
    "linear": timed(LinearRegression(), regression),
    "logistic": timed(LogisticRegression(tol=1e-4 * rows), classes),
    "logisticDefault": timed(LogisticRegression(), classes),
}))
