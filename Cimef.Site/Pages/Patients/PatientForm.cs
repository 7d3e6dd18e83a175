using Cimef.Site.Data;
using Cimef.Site.FrontDesk;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace Cimef.Site.Pages.Patients;

/// <summary>The create/edit form of a patient (same fields, same rules, same duplicate warning).</summary>
public sealed class PatientForm
{
    public string? FullName { get; set; }
    public string? Phone { get; set; }
    public string? Email { get; set; }
    public DateOnly? DateOfBirth { get; set; }
    /// <summary>The language of the patient's SMS and e-mail (fr, wo, en; empty = French).</summary>
    public string? Language { get; set; }
    /// <summary>Set by the "enregistrer quand même" button after the duplicate warning.</summary>
    public bool ConfirmDuplicate { get; set; }

    public static readonly Dictionary<string, string> Fields = new()
    {
        ["full_name"] = "Input.FullName", ["phone"] = "Input.Phone", ["email"] = "Input.Email", ["date_of_birth"] = "Input.DateOfBirth", ["language"] = "Input.Language",
    };

    /// <summary>Validates into ModelState and, unless confirmed, looks for duplicates. Returns the cleaned values when saving may proceed.</summary>
    public async Task<(PatientRules.Cleaned? Value, List<PatientRules.Duplicate> Duplicates)> CheckAsync(
        CimefDb db, ModelStateDictionary modelState, DateOnly today, int? exceptId)
    {
        if (!modelState.IsValid) return (null, []);
        var (clean, errors) = PatientRules.Clean(FullName, Phone, Email, DateOfBirth, today, Language);
        foreach (var (field, messages) in errors)
            foreach (var m in messages) modelState.AddModelError(Fields[field], m);
        if (clean is null) return (null, []);
        var duplicates = await PatientRules.FindDuplicatesAsync(db, clean, exceptId);
        return duplicates.Count > 0 && !ConfirmDuplicate ? (null, duplicates) : (clean, duplicates);
    }
}
