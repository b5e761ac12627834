"""Skills understood: how long `flask seed reference` takes with the 2022 occupational classification (a fresh
database, then again: idempotent), the occupation suggester (fit once per process, then one title), how often its
first suggestion is right on realistic slot titles that are not in the classification's aliases, and the queue of
free-text skills on a database given with --database (e.g. the demo city).

Usage: python -m bench.bench_skills [--database sqlite:////tmp/xintu.db]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import fresh_database, summary_ms, write_result

# Slot titles as bases write them, with the occupation a person would confirm (2022 codes). None of the titles is
# itself a name or alias in the shipped files.
LABELLED = (
    ("招聘中餐厨师", "4-03-02-01"), ("后厨炒锅师傅", "4-03-02-01"), ("凉菜厨师（夜班）", "4-03-02-01"),
    ("包子面点师傅", "4-03-02-02"), ("汽车维修技师", "4-12-01-01"), ("汽修学徒（包住）", "4-12-01-01"),
    ("汽车钣金喷漆", "4-12-01-01"), ("淘宝电商运营", "4-01-06-01"), ("电商运营助理", "4-01-06-01"),
    ("抖音带货主播", "4-01-06-02"), ("住家保姆", "4-10-01-06"), ("养老院护工", "4-10-01-05"),
    ("小区水电工", "6-31-01-03"), ("二保焊焊工", "6-18-02-04"), ("仓库仓管员", "4-02-06-01"),
    ("快递分拣员", "4-02-07-08"), ("美发店理发师", "4-10-03-02"), ("小区绿化工", "4-09-10-01"),
    ("叉车工（持证）", "6-30-05-01"), ("工地泥瓦工", "6-29-01-01"), ("服装厂车工", "6-05-01-03"),
    ("电子厂流水线普工", "6-25-04-99"), ("商场保安", "4-07-05-01"), ("写字楼保洁阿姨", "4-09-08-01"),
    ("酒店传菜员", "4-03-02-05"), ("美团外卖骑手", "4-10-08-01"), ("物流搬运装卸工", "4-02-05-01"),
)


def _timed(call):
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="a database with data (the demo city) to time the free-text queue on")
    args = parser.parse_args()
    from sqlalchemy import func, select

    from matcher import create_app
    from matcher.demo.reference import load_all_reference
    from matcher.extensions import db
    from matcher.reference import service as reference
    from matcher.reference.models import Occupation

    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database("sqlite", Path(tmp))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MODELS_DIR": tmp, "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            first, counts = _timed(lambda: load_all_reference(db.session))
            db.session.commit()
            again, _ = _timed(lambda: load_all_reference(db.session))
            db.session.commit()
            occupations = db.session.scalar(select(func.count(Occupation.code)))
            fit, _ = _timed(lambda: reference.suggest_occupations(session=db.session, title="厨师"))
            samples, top1, top3 = [], 0, 0
            for _round in range(5):
                for title, code in LABELLED:
                    seconds, found = _timed(lambda t=title: reference.suggest_occupations(session=db.session,
                                                                                          title=t))
                    samples.append(seconds)
                    if _round == 0:
                        top1 += bool(found) and found[0].code == code
                        top3 += code in {s.code for s in found}
            figures.update({
                "seed_reference_fresh_s": round(first, 2), "seed_reference_again_s": round(again, 2),
                "counts": counts, "occupations_rows": occupations,
                "suggester_fit_and_first_s": round(fit, 2), "suggest_one_title": summary_ms(samples),
                "labelled_titles": len(LABELLED), "top1_right": top1, "top3_right": top3})
            db.session.remove()
            db.engine.dispose()
    if args.database:
        from matcher.auth.models import Account, Role
        from matcher.reference import skill_mappings

        app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "SECRET_KEY": "bench"})
        with app.app_context():
            admin = db.session.scalar(select(Account).where(Account.role == Role.ADMINISTRATOR).order_by(Account.id))
            queue = [_timed(lambda: skill_mappings.queue(session=db.session, actor=admin))[0] for _ in range(5)]
            counts = skill_mappings.queue_counts(session=db.session, actor=admin)
            figures.update({"queue_on": args.database, "queue": summary_ms(queue), "queue_counts": counts})
    write_result("skills", figures)


if __name__ == "__main__":
    main()
