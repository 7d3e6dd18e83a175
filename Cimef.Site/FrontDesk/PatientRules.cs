using System.ComponentModel.DataAnnotations;
using Cimef.Site.Data;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.FrontDesk;

/// <summary>Validation and duplicate detection shared by the patient pages and the patients API.</summary>
public static class PatientRules
{
    /// <summary>The cleaned values; Language is the patient's messages language (fr, wo, en; null = French).</summary>
    public sealed record Cleaned(string FullName, string Phone, string? Email, DateOnly? DateOfBirth, string? Language = null);

    /// <summary>Validates and normalises; errors are keyed by field name (full_name, phone, email, date_of_birth, language).</summary>
    public static (Cleaned? Value, Dictionary<string, string[]> Errors) Clean(string? fullName, string? phone, string? email, DateOnly? dateOfBirth, DateOnly today,
        string? language = null)
    {
        var errors = new Dictionary<string, string[]>();
        var name = string.Join(' ', (fullName ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (name.Length == 0) errors["full_name"] = ["Le nom est obligatoire."];
        else if (name.Length > 120) errors["full_name"] = ["Le nom ne doit pas dépasser 120 caractères."];

        string? normalizedPhone = null;
        if (string.IsNullOrWhiteSpace(phone)) errors["phone"] = ["Le téléphone est obligatoire."];
        else if ((normalizedPhone = Phones.Normalize(phone)) is null) errors["phone"] = [Phones.Invalid];

        var mail = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        if (mail is not null && (mail.Length > 254 || !new EmailAddressAttribute().IsValid(mail) || !mail.Contains('.', StringComparison.Ordinal)))
            errors["email"] = ["L'adresse e-mail n'est pas valide."];

        if (dateOfBirth is DateOnly dob && (dob > today || dob < today.AddYears(-130)))
            errors["date_of_birth"] = ["La date de naissance n'est pas plausible."];

        var lang = string.IsNullOrWhiteSpace(language) ? null : Languages.PatientLanguages.Normalize(language);
        if (!string.IsNullOrWhiteSpace(language) && (lang is null || language.Trim().Length > 5))
            errors["language"] = ["Langue inconnue : choisissez Français, Wolof ou English."];

        return errors.Count > 0 ? (null, errors) : (new Cleaned(name, normalizedPhone!, mail, dateOfBirth, lang), errors);
    }

    public sealed record Duplicate(int Id, string FullName, string Phone, string Reason);

    /// <summary>Other patients with the same phone, or the same name and date of birth.</summary>
    public static async Task<List<Duplicate>> FindDuplicatesAsync(CimefDb db, Cleaned p, int? exceptId, CancellationToken ct = default)
    {
        var searchName = Web.Text.SearchForm(p.FullName);
        var rows = await db.Patients.AsNoTracking()
            .Where(x => x.Id != (exceptId ?? 0) && (x.Phone == p.Phone || (p.DateOfBirth != null && x.SearchName == searchName && x.DateOfBirth == p.DateOfBirth)))
            .OrderBy(x => x.Id).Take(5)
            .Select(x => new { x.Id, x.FullName, x.Phone })
            .ToListAsync(ct);
        return rows.Select(x => new Duplicate(x.Id, x.FullName, x.Phone,
            x.Phone == p.Phone ? "même numéro de téléphone" : "même nom et même date de naissance")).ToList();
    }
}
