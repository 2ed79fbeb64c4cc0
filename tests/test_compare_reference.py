"""Textbook mode end to end on the estudy2 data against statsmodels and MacKinlay's J1 / J2.

``tests/test_estudy2.py`` pins estudy2 mode (and the statistics on hand-built arrays);
``tests/test_study_statsmodels.py`` pins the model stage on a synthetic panel. This file adds
the textbook defaults end to end on real data where two firms (ZM, UBER) list during the
estimation window, so M differs across firms: the market-model estimates, the CARs and their
forecast-error standard deviations against statsmodels fitted firm by firm, and the aggregate
statistics against MacKinlay's (1997) J1 and J2 (Patell) written out from those statsmodels
fits. These are the formulas the package ``event-studies`` implements (see
``docs/comparison.md``); no extra package is needed here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

FIRMS = ["AMZN", "ZM", "UBER", "NFLX", "SHOP", "FB", "UPWK"]
DAY0 = pd.Timestamp("2020-03-16")
WINDOW = (0, 4)


@pytest.fixture(scope="module")
def data(estudy2_dir):
    rates = pd.read_csv(estudy2_dir / "rates.csv", index_col="date", parse_dates=True)[FIRMS]
    market = pd.read_csv(estudy2_dir / "rates_indx.csv", index_col="date", parse_dates=True).iloc[:, 0]
    return rates, market


@pytest.fixture(scope="module")
def semiscreen(data):
    from events import EventStudy

    rates, market = data
    firms = pd.DataFrame({"event_id": "covid", "symbol": FIRMS, "event_date": DAY0})
    study = EventStudy(rates, market=market, model="market", estimation=(-240, -1), windows=[WINDOW],
                       sessions={s: rates.index for s in FIRMS})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return study.fit(firms)


@pytest.fixture(scope="module")
def reference(data):
    """Per firm: statsmodels OLS on its complete estimation days, CAR and 1'V1 over the window."""
    rates, market = data
    p0 = rates.index.get_loc(DAY0)
    est = slice(p0 - 240, p0)
    evt = slice(p0 + WINDOW[0], p0 + WINDOW[1] + 1)
    rows = {}
    for s in FIRMS:
        y, x = rates[s].iloc[est], market.iloc[est]
        ok = y.notna()
        fit = sm.OLS(y[ok].to_numpy(), sm.add_constant(x[ok].to_numpy())).fit()
        X0 = sm.add_constant(market.iloc[evt].to_numpy(), has_constant="add")
        ar = rates[s].iloc[evt].to_numpy() - X0 @ fit.params
        cov = fit.scale * np.eye(len(ar)) + X0 @ fit.cov_params() @ X0.T   # s^2 I + X0 Cov(b) X0'
        rows[s] = {"alpha": fit.params[0], "beta": fit.params[1], "sigma": np.sqrt(fit.scale),
                   "n_est": int(fit.nobs), "car": ar.sum(), "car_sd": np.sqrt(cov.sum())}
    return pd.DataFrame.from_dict(rows, orient="index")


def test_listings_inside_the_estimation_window_use_complete_cases(semiscreen, reference):
    params = semiscreen.params.set_index("symbol").loc[FIRMS]
    assert params["n_est"].tolist() == reference["n_est"].tolist() == [240, 227, 212, 240, 240, 240, 240]


def test_textbook_market_model_and_car_sd_match_statsmodels(semiscreen, reference):
    params = semiscreen.params.set_index("symbol").loc[FIRMS]
    for col in ["alpha", "beta", "sigma"]:
        np.testing.assert_allclose(params[col], reference[col], rtol=1e-9, atol=1e-14, err_msg=col)
    car = semiscreen.car.set_index("symbol").loc[FIRMS]
    np.testing.assert_allclose(car["car"], reference["car"], rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(car["car_sd"], reference["car_sd"], rtol=1e-9)


def test_patell_is_mackinlays_j2_with_unequal_estimation_sizes(semiscreen, reference):
    scar = reference["car"] / reference["car_sd"]
    dof = reference["n_est"] - 2
    j2 = scar.sum() / np.sqrt((dof / (dof - 2)).sum())
    tests = semiscreen.tests(["patell"], bhar=False)
    assert tests["statistic"].iloc[0] == pytest.approx(j2, rel=1e-9)
    assert tests["n"].iloc[0] == len(FIRMS)


def test_caar_and_j1_follow_from_the_car_variances(semiscreen, reference):
    caar = reference["car"].mean()
    j1 = caar / (np.sqrt((reference["car_sd"] ** 2).sum()) / len(FIRMS))
    car = semiscreen.car
    assert car["car"].mean() == pytest.approx(caar, rel=1e-12)
    assert car["car"].mean() / (np.sqrt((car["car_sd"] ** 2).sum()) / len(car)) == pytest.approx(j1, rel=1e-9)
    # the crude BW1980 statistic ignores the forecast-error term, so it is larger than J1 here
    bw = semiscreen.tests(["brown_warner_1980"], bhar=False)["statistic"].iloc[0]
    assert bw > j1
