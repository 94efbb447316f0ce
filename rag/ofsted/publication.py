"""The fixed text Ofsted prints in every report around the findings: the licence, how to get the report
in another format, how to complain, its addresses. It is no inspector's finding and is never cited as
evidence, so reading drops it."""
from __future__ import annotations

import re

_BOILERPLATE = re.compile(
    r"^(?:The Office for Standards in Education, Children[’']s Services and Skills \(Ofsted\) regulates and inspects"
    r"|If you would like a copy of this document in a different format"
    r"|You may reuse this information \(not including logos\)"
    r"|This (?:document|publication) may be reproduced in whole or in part"
    r"|This report is available at https?://"
    r"|Interested in our work\? You can subscribe"
    r"|Further copies of this report are obtainable"
    r"|Any complaints about the inspection or the report should be made"
    r"|If you would like Ofsted to send you a copy of the guidance"
    r"|Ofsted will be pleased to"
    r"|Piccadilly Gate\b|Store Street Manchester|T: 0300 123 \d{4}|Textphone: 0161"
    r"|©\s*Crown copyright\b"
    r"|Website: www\.ofsted\.gov\.uk"
    r"|No\. \d{6}\s*$)", re.I)


def is_boilerplate(text: str) -> bool:
    return bool(_BOILERPLATE.match(text.strip()))
