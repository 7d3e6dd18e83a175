using Cimef.Site.Data.Entities;

namespace Cimef.Site.Pages.Billing;

/// <summary>Model of the _ExamSelect partial (the active catalogue grouped by modality).</summary>
public sealed record ExamSelect(string Id, string Name, IReadOnlyList<Exam> Exams, string? Selected);
