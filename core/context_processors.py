from django.conf import settings


def company(request):
    return {"company_zh": settings.QMS["COMPANY_NAME_ZH"], "company_en": settings.QMS["COMPANY_NAME_EN"]}
