from django.contrib import admin

from .models import Customer, Product


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "contact", "active"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False  # referenced by records: deactivate instead


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "specification", "unit", "active"]
    search_fields = ["code", "name_zh", "name_en"]

    def has_delete_permission(self, request, obj=None):
        return False
