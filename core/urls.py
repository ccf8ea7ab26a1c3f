from django.urls import path

from . import views

app_name = "records"
urlpatterns = [
    path("", views.RecordListView.as_view(), name="list"),
    path("<str:number>/", views.RecordDetailView.as_view(), name="detail"),
    path("<str:number>/v<int:version>/pdf/", views.record_pdf, name="pdf"),
]
